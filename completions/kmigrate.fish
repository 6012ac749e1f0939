# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kmigrate_global_optspecs
    string join \n kubeconfig= context= n/namespace= l/selector= c/container= pod= e/env= config= release= app= repo= prefix= prefixes-from= allow-no-tenants migrations-path= log-sql mode= y/yes continue-on-error wait lock-timeout= statement-timeout= timeout= remote-failure-code= o/output= v/verbose h/help V/version
end

function __fish_kmigrate_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kmigrate_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kmigrate_using_subcommand
    set -l cmd (__fish_kmigrate_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kmigrate -n "__fish_kmigrate_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_needs_command" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -s V -l version -d 'Print version'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "migrate" -d 'Run pending migrations'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "rollback" -d 'Revert migrations (--step N or --to VERSION)'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "status" -d 'List migrations per repo as up or down'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "wait" -d 'Wait until the database holds every migration of the image (a schema gate)'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "gate" -d 'Print an init container that makes the Deployment\'s new pods wait for their schema'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "plan" -d 'Show the pending migrations, how Ecto runs them, what in them is risky, and the plan hash'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "lint" -d 'Check migration files for risky changes, offline (as `plan` does in the pod): for CI on pull requests'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "pods" -d 'List candidate pods and explain which one would be chosen'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "exec" -d 'Run any command in the chosen pod and container'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "console" -d 'Open the release\'s remote IEx console (`bin/APP remote`) on the running node of the chosen pod, with a terminal; leaving it leaves the node running'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "runs" -d 'List recent Job-mode runs (start, user, command, image, outcome, duration)'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "logs" -d 'Follow a Job-mode run\'s output again and exit with its exit code'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "unlock" -d 'Show who holds the single-runner lock and what is known about it; clear it after asking'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "doctor" -d 'Check the setup step by step (kubeconfig, API, RBAC, pod, release, app, database) and say how to fix what fails'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "init" -d 'Write a kmigrate.toml scaffold and print the RBAC Role the tool needs'
complete -c kmigrate -n "__fish_kmigrate_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l image -d 'Run in a Job with this image (the new release) instead of exec in a running pod' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l deployment -d 'The Deployment whose pod template the Job copies (default: the owner of the chosen pod)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l start-grace -d 'Job mode: how long a pod in image-pull back-off, config error or unschedulable is given to start before the Job is deleted (default 2m, within --timeout)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l entrypoint -d 'Job mode: `replace` (default) runs the release command as the container\'s `command`, in place of the image\'s ENTRYPOINT; `keep` passes it as `args` to the entrypoint the app runs under (the image\'s ENTRYPOINT, or the container\'s own `command`), which must exec its arguments, for an entrypoint that exports the database settings' -r -f -a "replace\t'The release command is the container\'s `command`: the image\'s ENTRYPOINT (and the Deployment container\'s own `command`) do not run'
keep\t'The release command is the container\'s `args` alone: it runs under the entrypoint the app runs under, which must exec its arguments (`exec "$@"`, vault-env, `doppler run --`)'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l to -d 'Migrate up to and including this version' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l to-exclusive -d 'Migrate up to this version, without it (Ecto\'s `to_exclusive:`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l step -d 'Run only the next N pending migrations' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l plan -d 'Run only if the pending migrations and their files are still those of this plan (the hash the `plan` subcommand prints); otherwise nothing runs and the exit code is 82' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l allow-destructive -d 'In a protected environment, allow these destructive migrations (drops, renames, type changes, NOT NULL without a default, TRUNCATE, deleted rows), by version' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l allow-breaking -d 'In a protected environment, allow these migrations that break the code running now (a column or table its Ecto schemas still map), by version; --allow-destructive does not' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l canary -d 'Migrate this tenant first, alone; a failure there stops the run. Repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l concurrency -d 'Migrate N tenants at a time (default 1; at most 16), after the canaries' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l dry-run -d 'Job mode: print the Job as YAML and create nothing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l image -d 'Run in a Job with this image (the new release) instead of exec in a running pod' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l deployment -d 'The Deployment whose pod template the Job copies (default: the owner of the chosen pod)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l start-grace -d 'Job mode: how long a pod in image-pull back-off, config error or unschedulable is given to start before the Job is deleted (default 2m, within --timeout)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l entrypoint -d 'Job mode: `replace` (default) runs the release command as the container\'s `command`, in place of the image\'s ENTRYPOINT; `keep` passes it as `args` to the entrypoint the app runs under (the image\'s ENTRYPOINT, or the container\'s own `command`), which must exec its arguments, for an entrypoint that exports the database settings' -r -f -a "replace\t'The release command is the container\'s `command`: the image\'s ENTRYPOINT (and the Deployment container\'s own `command`) do not run'
keep\t'The release command is the container\'s `args` alone: it runs under the entrypoint the app runs under, which must exec its arguments (`exec "$@"`, vault-env, `doppler run --`)'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l to -d 'Revert every migration down to and including this version (Ecto\'s `to:`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l to-exclusive -d 'Revert every migration newer than this version, keeping it (Ecto\'s `to_exclusive:`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l step -d 'Revert the last N applied migrations' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l dry-run -d 'Job mode: print the Job as YAML and create nothing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l image -d 'Run in a Job with this image (the new release) instead of exec in a running pod' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l deployment -d 'The Deployment whose pod template the Job copies (default: the owner of the chosen pod)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l start-grace -d 'Job mode: how long a pod in image-pull back-off, config error or unschedulable is given to start before the Job is deleted (default 2m, within --timeout)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l entrypoint -d 'Job mode: `replace` (default) runs the release command as the container\'s `command`, in place of the image\'s ENTRYPOINT; `keep` passes it as `args` to the entrypoint the app runs under (the image\'s ENTRYPOINT, or the container\'s own `command`), which must exec its arguments, for an entrypoint that exports the database settings' -r -f -a "replace\t'The release command is the container\'s `command`: the image\'s ENTRYPOINT (and the Deployment container\'s own `command`) do not run'
keep\t'The release command is the container\'s `args` alone: it runs under the entrypoint the app runs under, which must exec its arguments (`exec "$@"`, vault-env, `doppler run --`)'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l dry-run -d 'Job mode: print the Job as YAML and create nothing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l exit-code -d 'Exit with code 10 when any migration is pending (a CI gate)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l image -d 'Run in a Job with this image (the new release) instead of exec in a running pod' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l deployment -d 'The Deployment whose pod template the Job copies (default: the owner of the chosen pod)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l start-grace -d 'Job mode: how long a pod in image-pull back-off, config error or unschedulable is given to start before the Job is deleted (default 2m, within --timeout)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l entrypoint -d 'Job mode: `replace` (default) runs the release command as the container\'s `command`, in place of the image\'s ENTRYPOINT; `keep` passes it as `args` to the entrypoint the app runs under (the image\'s ENTRYPOINT, or the container\'s own `command`), which must exec its arguments, for an entrypoint that exports the database settings' -r -f -a "replace\t'The release command is the container\'s `command`: the image\'s ENTRYPOINT (and the Deployment container\'s own `command`) do not run'
keep\t'The release command is the container\'s `args` alone: it runs under the entrypoint the app runs under, which must exec its arguments (`exec "$@"`, vault-env, `doppler run --`)'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l deadline -d 'Give up after this long with exit code 10, listing what is still missing (default 10m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l dry-run -d 'Job mode: print the Job as YAML and create nothing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l image -d 'The image the init container runs (default: the Deployment\'s app container\'s)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l deployment -d 'The Deployment to gate (default: the owner of the chosen pod)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l deadline -d 'How long one run of the init container waits before it exits 10 (default 10m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l entrypoint -d '`replace` (default) runs the wait command as the gate\'s `command`, in place of the image\'s ENTRYPOINT; `keep` passes it as `args` to the entrypoint the app runs under (the image\'s ENTRYPOINT, or the container\'s own `command`), which must exec its arguments, for an entrypoint that exports the database settings' -r -f -a "replace\t'The release command is the container\'s `command`: the image\'s ENTRYPOINT (and the Deployment container\'s own `command`) do not run'
keep\t'The release command is the container\'s `args` alone: it runs under the entrypoint the app runs under, which must exec its arguments (`exec "$@"`, vault-env, `doppler run --`)'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l patch -d 'Print a strategic-merge patch for `kubectl patch deployment NAME --patch-file FILE`'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand gate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l image -d 'Run in a Job with this image (the new release) instead of exec in a running pod' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l deployment -d 'The Deployment whose pod template the Job copies (default: the owner of the chosen pod)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l start-grace -d 'Job mode: how long a pod in image-pull back-off, config error or unschedulable is given to start before the Job is deleted (default 2m, within --timeout)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l entrypoint -d 'Job mode: `replace` (default) runs the release command as the container\'s `command`, in place of the image\'s ENTRYPOINT; `keep` passes it as `args` to the entrypoint the app runs under (the image\'s ENTRYPOINT, or the container\'s own `command`), which must exec its arguments, for an entrypoint that exports the database settings' -r -f -a "replace\t'The release command is the container\'s `command`: the image\'s ENTRYPOINT (and the Deployment container\'s own `command`) do not run'
keep\t'The release command is the container\'s `args` alone: it runs under the entrypoint the app runs under, which must exec its arguments (`exec "$@"`, vault-env, `doppler run --`)'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l dry-run -d 'Job mode: print the Job as YAML and create nothing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l fail-on -d 'Exit 83 when an unreviewed finding is at least this severe' -r -f -a "destructive\t'A destructive finding (data loss, or breaks the running code)'
warning\t'Any finding, warnings too'
never\t'Nothing: report only'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l github -d 'Also print each finding as a GitHub Actions workflow command, which the pull request shows on the line (not with `-o json`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand lint" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand pods" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -s i -l stdin -d 'Pass stdin to the command until it ends (end of file closes the command\'s stdin), as `kubectl exec -i` does'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -s t -l tty -d 'Give the command a terminal, as `kubectl exec -t`: with -i on a terminal, keys, Ctrl-C and Ctrl-D reach the command (raw mode) and its window size follows yours'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand console" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand runs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l force -d 'Clear a lock that still looks live (renewed within its duration, or held by a Job that is still active): its run may still be going. `--yes` alone clears only a lock whose holder looks gone'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand unlock" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l context -d 'The kubeconfig context to use' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -s n -l namespace -d 'Namespace of the app\'s pods' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -s l -l selector -d 'Label selector for the app\'s pods (kubectl syntax: `app=demo`, `app in (a,b)`)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -s c -l container -d 'Container to run in (default: the pod\'s default-container annotation, then the first)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l pod -d 'Use this pod instead of choosing one by label' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -s e -l env -d 'Environment from kmigrate.toml; several as a comma-separated list (a,b) or a group\'s name, run in order after one confirmation (migrate, rollback, status)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l config -d 'Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest kmigrate.toml up to the repository root or $HOME)' -r -F
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l release -d 'Path of the mix release script inside the container (default: /app/bin/<app>)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l app -d 'OTP application whose env lists the repos (default: the release script\'s file name; in an umbrella, the child app that owns the repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l repo -d 'Ecto repo module to act on; repeat for several (default: the app\'s :ecto_repos)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l prefix -d 'Schema prefix to migrate (Ecto\'s `prefix:`); repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l prefixes-from -d 'The prefixes are the schema names this SQL query returns (first column), run on the first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE nspname LIKE \'tenant_%\' ORDER BY 1"' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l migrations-path -d 'Migrations directory, relative to the repo\'s app directory; replaces the default (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix\'s does; repeat for several' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l mode -d 'How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)' -r -f -a "eval\t'`<release> eval`: a fresh VM next to the running app'
rpc\t'`<release> rpc`: inside the running node'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l lock-timeout -d 'PostgreSQL lock_timeout for the migration\'s own database sessions (e.g. 5s): a migration that waits longer for a lock is rolled back and the run ends with code 78' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l statement-timeout -d 'PostgreSQL statement_timeout for the migration\'s own database sessions (e.g. 15m)' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l timeout -d 'Give up after this long (e.g. 90s, 10m); the remote command may keep running. Default for commands that only read (status, plan, wait after its --deadline, pods, runs, gate, doctor): 15m; none for the others' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l remote-failure-code -d 'Exit with this code whenever the remote command fails, instead of its own code (which may be one of kmigrate\'s); 1-255 and none of kmigrate\'s own codes. The remote code stays in the JSON report and on stderr' -r
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -s o -l output -d 'Output format: human text, or one JSON document on stdout at the end' -r -f -a "text\t'Plain text for people'
json\t'One JSON document on stdout; remote output goes to stderr'"
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l force -d 'Overwrite an existing kmigrate.toml'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l rbac -d 'Print only the RBAC Role, and write no file (for a kmigrate.toml that exists, or an installed kmigrate without the repository\'s rbac/)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l allow-no-tenants -d 'A --prefixes-from query that returns no names is a success with nothing to do; without this flag it is refused (exit 2), as a typo in the query would look the same'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l log-sql -d 'Log each migration\'s SQL as it runs (Ecto\'s `log_migrations_sql`)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -s y -l yes -d 'Answer yes to the confirmation of a protected environment (needed without a terminal)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l continue-on-error -d 'A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the others; by default the first failure does. With several environments that have tenants it means both: every tenant of every environment is tried'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -l wait -d 'If another run holds the lock, wait for it (up to --timeout) instead of failing'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "migrate" -d 'Run pending migrations'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "rollback" -d 'Revert migrations (--step N or --to VERSION)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "status" -d 'List migrations per repo as up or down'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "wait" -d 'Wait until the database holds every migration of the image (a schema gate)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "gate" -d 'Print an init container that makes the Deployment\'s new pods wait for their schema'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "plan" -d 'Show the pending migrations, how Ecto runs them, what in them is risky, and the plan hash'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "lint" -d 'Check migration files for risky changes, offline (as `plan` does in the pod): for CI on pull requests'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "pods" -d 'List candidate pods and explain which one would be chosen'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "exec" -d 'Run any command in the chosen pod and container'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "console" -d 'Open the release\'s remote IEx console (`bin/APP remote`) on the running node of the chosen pod, with a terminal; leaving it leaves the node running'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "runs" -d 'List recent Job-mode runs (start, user, command, image, outcome, duration)'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "logs" -d 'Follow a Job-mode run\'s output again and exit with its exit code'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "unlock" -d 'Show who holds the single-runner lock and what is known about it; clear it after asking'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "doctor" -d 'Check the setup step by step (kubeconfig, API, RBAC, pod, release, app, database) and say how to fix what fails'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "completions" -d 'Print shell completions'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "init" -d 'Write a kmigrate.toml scaffold and print the RBAC Role the tool needs'
complete -c kmigrate -n "__fish_kmigrate_using_subcommand help; and not __fish_seen_subcommand_from migrate rollback status wait gate plan lint pods exec console runs logs unlock doctor completions init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
