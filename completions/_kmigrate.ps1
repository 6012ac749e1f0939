
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kmigrate' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kmigrate'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kmigrate' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Run pending migrations')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Revert migrations (--step N or --to VERSION)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'List migrations per repo as up or down')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until the database holds every migration of the image (a schema gate)')
            [CompletionResult]::new('pods', 'pods', [CompletionResultType]::ParameterValue, 'List candidate pods and explain which one would be chosen')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run any command in the chosen pod and container')
            [CompletionResult]::new('runs', 'runs', [CompletionResultType]::ParameterValue, 'List recent Job-mode runs (start, user, command, image, outcome, duration)')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Follow a Job-mode run''s output again and exit with its exit code')
            [CompletionResult]::new('unlock', 'unlock', [CompletionResultType]::ParameterValue, 'Show who holds the single-runner lock and what is known about it; clear it after asking')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a kmigrate.toml scaffold and print the RBAC Role the tool needs')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kmigrate;migrate' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Run in a Job with this image (the new release) instead of exec in a running pod')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'The Deployment whose pod template the Job copies (default: the owner of the chosen pod)')
            [CompletionResult]::new('--start-grace', '--start-grace', [CompletionResultType]::ParameterName, 'Job mode: how long a pod in image-pull back-off, config error or unschedulable is given to start before the Job is deleted (default 2m, within --timeout)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Migrate up to and including this version')
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'Run only the next N pending migrations')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Job mode: print the Job as YAML and create nothing')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kmigrate;rollback' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Run in a Job with this image (the new release) instead of exec in a running pod')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'The Deployment whose pod template the Job copies (default: the owner of the chosen pod)')
            [CompletionResult]::new('--start-grace', '--start-grace', [CompletionResultType]::ParameterName, 'Job mode: how long a pod in image-pull back-off, config error or unschedulable is given to start before the Job is deleted (default 2m, within --timeout)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Revert every migration down to and including this version (Ecto''s `to:`)')
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'Revert the last N applied migrations')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Job mode: print the Job as YAML and create nothing')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kmigrate;status' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Run in a Job with this image (the new release) instead of exec in a running pod')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'The Deployment whose pod template the Job copies (default: the owner of the chosen pod)')
            [CompletionResult]::new('--start-grace', '--start-grace', [CompletionResultType]::ParameterName, 'Job mode: how long a pod in image-pull back-off, config error or unschedulable is given to start before the Job is deleted (default 2m, within --timeout)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Job mode: print the Job as YAML and create nothing')
            [CompletionResult]::new('--exit-code', '--exit-code', [CompletionResultType]::ParameterName, 'Exit with code 10 when any migration is pending (a CI gate)')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kmigrate;wait' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Run in a Job with this image (the new release) instead of exec in a running pod')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'The Deployment whose pod template the Job copies (default: the owner of the chosen pod)')
            [CompletionResult]::new('--start-grace', '--start-grace', [CompletionResultType]::ParameterName, 'Job mode: how long a pod in image-pull back-off, config error or unschedulable is given to start before the Job is deleted (default 2m, within --timeout)')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Give up after this long with exit code 10, listing what is still missing (default 10m)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Job mode: print the Job as YAML and create nothing')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kmigrate;pods' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kmigrate;exec' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kmigrate;runs' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kmigrate;logs' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kmigrate;unlock' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kmigrate;completions' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kmigrate;init' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the app''s pods')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Label selector for the app''s pods (kubectl syntax: `app=demo`, `app in (a,b)`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'Container to run in (default: the pod''s default-container annotation, then the first)')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Use this pod instead of choosing one by label')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Named environment from kmigrate.toml')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file, used as given (default: the nearest kmigrate.toml up to the repository root or $HOME)')
            [CompletionResult]::new('--release', '--release', [CompletionResultType]::ParameterName, 'Path of the mix release script inside the container (default: /app/bin/<app>)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'OTP application whose env lists the repos (default: the release script''s file name; in an umbrella, the child app that owns the repos)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Ecto repo module to act on; repeat for several (default: the app''s :ecto_repos)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Schema prefix to migrate (Ecto''s `prefix:`); repeat for several')
            [CompletionResult]::new('--migrations-path', '--migrations-path', [CompletionResultType]::ParameterName, 'Extra migrations directory, relative to the app''s directory; repeat for several')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m); the remote command may keep running')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human text, or one JSON document on stdout at the end')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing kmigrate.toml')
            [CompletionResult]::new('--log-sql', '--log-sql', [CompletionResultType]::ParameterName, 'Log each migration''s SQL as it runs (Ecto''s `log_migrations_sql`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation of a protected environment (needed without a terminal)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'If another run holds the lock, wait for it (up to --timeout) instead of failing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kmigrate;help' {
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Run pending migrations')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Revert migrations (--step N or --to VERSION)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'List migrations per repo as up or down')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until the database holds every migration of the image (a schema gate)')
            [CompletionResult]::new('pods', 'pods', [CompletionResultType]::ParameterValue, 'List candidate pods and explain which one would be chosen')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run any command in the chosen pod and container')
            [CompletionResult]::new('runs', 'runs', [CompletionResultType]::ParameterValue, 'List recent Job-mode runs (start, user, command, image, outcome, duration)')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Follow a Job-mode run''s output again and exit with its exit code')
            [CompletionResult]::new('unlock', 'unlock', [CompletionResultType]::ParameterValue, 'Show who holds the single-runner lock and what is known about it; clear it after asking')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a kmigrate.toml scaffold and print the RBAC Role the tool needs')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kmigrate;help;migrate' {
            break
        }
        'kmigrate;help;rollback' {
            break
        }
        'kmigrate;help;status' {
            break
        }
        'kmigrate;help;wait' {
            break
        }
        'kmigrate;help;pods' {
            break
        }
        'kmigrate;help;exec' {
            break
        }
        'kmigrate;help;runs' {
            break
        }
        'kmigrate;help;logs' {
            break
        }
        'kmigrate;help;unlock' {
            break
        }
        'kmigrate;help;completions' {
            break
        }
        'kmigrate;help;init' {
            break
        }
        'kmigrate;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
