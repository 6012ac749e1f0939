//! Credentials: tokens never reach the output; bad credentials and trust get one clear line.

use crate::harness::{Ns, local};
use crate::support::{kmigrate, stdout};

#[test]
fn no_token_reaches_the_output_at_any_verbosity() {
    let ns = Ns::with_demo_pod("secrets", &[]);
    let l = local();
    assert!(l.admin_token.len() > 16);
    let dir = crate::support::scratch_dir("plugin");
    let plugin = credential_plugin(&dir, "credential-plugin", "", &l.admin_token, "");
    // The same plugin failing after it printed the token (an expired login that still
    // writes a cached credential); its kubeconfig `exec.env` carries a secret too.
    let failing = credential_plugin(
        &dir,
        "failing-plugin",
        "",
        &l.admin_token,
        "echo 'login expired' >&2\nexit 3\n",
    );
    let env_secret = "vault-s.ENV-SECRET-42";
    let exec_user = |program: &std::path::Path| {
        format!(
            "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      env:\n      - name: VAULT_TOKEN\n        value: {env_secret}\n      interactiveMode: Never",
            program.display()
        )
    };
    let plugin_config = admin_with_user(&dir, "kubeconfig", &exec_user(&plugin));
    let failing_config = admin_with_user(&dir, "kubeconfig-failing", &exec_user(&failing));
    assert!(
        !std::fs::read_to_string(&plugin_config)
            .unwrap()
            .contains(&l.admin_token)
    );
    for (config, code) in [(&plugin_config, 0), (&l.admin, 0), (&failing_config, 77)] {
        for args in [
            vec!["-vvv", "migrate", "-l", "app=demo"],
            vec!["-vvv", "exec", "-l", "app=demo", "-o", "json", "--", "true"],
            vec!["-vvv", "pods", "-l", "app=demo"],
        ] {
            let out = ns
                .kmigrate()
                .env("KUBECONFIG", config)
                .args(&args)
                .status(code);
            let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
            assert!(
                !all.contains(&l.admin_token) && !all.contains(env_secret),
                "a secret leaked with {args:?} and {}",
                config.display()
            );
            if code == 0 {
                assert!(
                    all.contains("DEBUG") || all.contains("TRACE") || all.contains("INFO"),
                    "no logs at -vvv"
                );
            } else {
                assert!(
                    all.contains("login expired") && all.contains("exit"),
                    "{all}"
                );
            }
        }
    }
}
#[test]
fn bad_credentials_and_trust_get_one_clear_line() {
    let ns = Ns::new("creds");
    let admin = std::fs::read_to_string(&local().admin).unwrap();
    let dir = crate::support::scratch_dir("creds");
    // A token the server does not know.
    let token_line = admin
        .lines()
        .find(|l| l.trim_start().starts_with("token:"))
        .unwrap()
        .trim_start()
        .to_owned();
    let expired = dir.join("expired");
    std::fs::write(
        &expired,
        admin.replace(
            &token_line,
            "token: 0000000000000000000000000000000000000000",
        ),
    )
    .unwrap();
    kmigrate()
        .env("KUBECONFIG", &expired)
        .args(["-n", &ns.name, "pods", "-l", "app=demo"])
        .expect_stderr("rejected the credentials")
        .status(77);
    // A CA that did not sign the server's certificate.
    let ca_line = admin
        .lines()
        .find(|l| l.trim_start().starts_with("certificate-authority-data:"))
        .unwrap()
        .trim_start()
        .to_owned();
    let other_ca = std::fs::read_dir("/etc/ssl/certs")
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "pem"))
        .map(|e| std::fs::read(e.path()).unwrap())
        .expect("a CA certificate in /etc/ssl/certs");
    let encoded = base64(&other_ca);
    let wrong_ca = dir.join("wrong-ca");
    std::fs::write(
        &wrong_ca,
        admin.replace(&ca_line, &format!("certificate-authority-data: {encoded}")),
    )
    .unwrap();
    let out = kmigrate()
        .env("KUBECONFIG", &wrong_ca)
        .args(["-n", &ns.name, "pods", "-l", "app=demo"])
        .expect_stderr("cannot reach the Kubernetes API")
        .status(76);
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        err.contains("certificate") || err.contains("issuer"),
        "{err}"
    );
    // Conflicting flags.
    kmigrate()
        .args(["migrate", "-l", "app=demo", "--to", "1", "--step", "1"])
        .expect_stderr("cannot be used with")
        .status(2);
}

/// An executable credential plugin `name` in `dir`: `before`, then an ExecCredential with
/// `token` on stdout, then `after`.
fn credential_plugin(
    dir: &std::path::Path,
    name: &str,
    before: &str,
    token: &str,
    after: &str,
) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n{before}echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n{after}"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

/// The admin kubeconfig as `dir/name`, its user's token replaced by `user` (an `exec:`).
fn admin_with_user(dir: &std::path::Path, name: &str, user: &str) -> std::path::PathBuf {
    let admin = std::fs::read_to_string(&local().admin).unwrap();
    let token_line = admin
        .lines()
        .find(|line| line.trim_start().starts_with("token:"))
        .unwrap();
    let path = dir.join(name);
    std::fs::write(&path, admin.replace(token_line.trim_start(), user)).unwrap();
    path
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One credential plugin run per invocation: kube asks the plugin for a token to build the
/// client, and again for a client certificate to build its TLS; with a read client and a
/// write client that was four runs of `aws eks get-token` (a second or more each) for
/// every kmigrate command.
#[test]
fn the_credential_plugin_runs_once_per_command() {
    let ns = Ns::with_demo_pod("plugin-once", &[]);
    let l = local();
    let dir = crate::support::scratch_dir("plugin-once");
    let count = dir.join("runs");
    let plugin = credential_plugin(
        &dir,
        "counting-plugin",
        &format!("echo run >> '{}'\n", count.display()),
        &l.admin_token,
        "",
    );
    let config = admin_with_user(
        &dir,
        "kubeconfig",
        &format!(
            "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never",
            plugin.display()
        ),
    );
    for args in [
        vec!["migrate", "-l", "app=demo"],
        vec!["pods", "-l", "app=demo"],
    ] {
        let _ = std::fs::remove_file(&count);
        ns.kmigrate()
            .env("KUBECONFIG", &config)
            .args(&args)
            .status(0);
        let runs = std::fs::read_to_string(&count).unwrap_or_default();
        assert_eq!(runs.lines().count(), 1, "plugin runs for {args:?}");
    }
}
