//! Who is running kmigrate, and the audit trail it leaves: a Kubernetes Event per run.

use std::collections::BTreeMap;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::PostParams;

use crate::connection::{Connection, chain};

/// The Kubernetes user name, from a SelfSubjectReview; `None` when the server will not say.
pub async fn whoami(conn: &Connection) -> Option<String> {
    let api: Api<SelfSubjectReview> = Api::all(conn.client.clone());
    match api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
    {
        Ok(review) => review.status?.user_info?.username,
        Err(e) => {
            tracing::info!(error = %chain(&e), "SelfSubjectReview failed; the user is unknown");
            None
        }
    }
}

/// This machine's name, for lock holders and events.
pub fn host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// A command as the audit trail records it: in full when `full`, else only the program and
/// a SHA-256 of the whole argv (what people type after `exec --`, or put in a custom
/// command, may hold secrets, and Events are readable by anyone with `view`).
pub fn recorded_argv(argv: &[String], full: bool) -> String {
    if full {
        return crate::text::shown_argv(argv);
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, argv.join("\0").as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let program = argv.first().map_or("", String::as_str);
    format!("{program} (arguments not recorded; argv sha256 {hex})")
}

/// The facts an audit Event records.
pub struct Record<'a> {
    /// migrate, rollback, exec.
    pub command: &'a str,
    /// The Kubernetes user.
    pub user: &'a str,
    /// What the command ran in: ("v1", "Pod", name) or ("batch/v1", "Job", name).
    pub regarding: (&'a str, &'a str, &'a str),
    /// The remote exit code, or `None` when unknown.
    pub exit_code: Option<i32>,
    /// The command could not be started (a release path that does not exist): nothing ran.
    pub not_started: bool,
    /// Versions applied or reverted.
    pub migrations: Vec<i64>,
    /// Wall-clock time.
    pub duration_ms: u64,
    /// The remote argv as shown to people.
    pub argv: &'a str,
    /// Why the lock was lost while the command ran, if it was.
    pub lock_lost: Option<&'a str>,
    /// Destructive migrations allowed in a protected environment, by version.
    pub destructive_allowed: &'a [i64],
}

/// How much of the command the `kmigrate.io/argv` annotation keeps: the snippets are a few
/// KiB, well under the API server's 256 KiB for all annotations.
const ARGV_ANNOTATION_CHARS: usize = 128 * 1024;

/// Create the Event on the pod. Returns an error message when it could not be written.
pub async fn record(conn: &Connection, namespace: &str, r: &Record<'_>) -> Result<(), String> {
    let outcome = match r.exit_code {
        Some(0) => "succeeded".to_owned(),
        Some(c) => format!("failed with exit code {c}"),
        None if r.not_started => "could not start its command".to_owned(),
        None => "ended with an unknown outcome".to_owned(),
    };
    let versions: Vec<String> = r.migrations.iter().map(ToString::to_string).collect();
    let mut note = format!(
        "{} ran kmigrate {}: {outcome} in {} ms",
        r.user, r.command, r.duration_ms
    );
    if !versions.is_empty() {
        note.push_str(&format!("; migrations: {}", versions.join(", ")));
    }
    if let Some(why) = r.lock_lost {
        note.push_str(&format!("; LOCK LOST while running: {why}"));
    }
    let allowed = r
        .destructive_allowed
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    if !allowed.is_empty() {
        note.push_str(&format!("; destructive migrations allowed: {allowed}"));
    }
    note.push_str(&format!("; command: {}", r.argv));
    let note: String = note.chars().take(1000).collect();
    let mut annotations = BTreeMap::from([
        ("kmigrate.io/user".to_owned(), r.user.to_owned()),
        ("kmigrate.io/command".to_owned(), r.command.to_owned()),
        ("kmigrate.io/migrations".to_owned(), versions.join(",")),
        (
            "kmigrate.io/duration-ms".to_owned(),
            r.duration_ms.to_string(),
        ),
        ("kmigrate.io/host".to_owned(), host()),
        // The note is cut at 1000 characters, which a snippet outgrows: the command in full
        // is here (annotations may hold 256 KiB in all).
        (
            "kmigrate.io/argv".to_owned(),
            r.argv.chars().take(ARGV_ANNOTATION_CHARS).collect(),
        ),
    ]);
    if let Some(c) = r.exit_code {
        annotations.insert("kmigrate.io/exit-code".to_owned(), c.to_string());
    }
    if let Some(why) = r.lock_lost {
        annotations.insert("kmigrate.io/lock-lost".to_owned(), why.to_owned());
    }
    if !allowed.is_empty() {
        annotations.insert("kmigrate.io/destructive-allowed".to_owned(), allowed);
    }
    let event = Event {
        metadata: ObjectMeta {
            generate_name: Some("kmigrate-".to_owned()),
            namespace: Some(namespace.to_owned()),
            annotations: Some(annotations),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                "kmigrate".to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(Timestamp::now())),
        action: Some(r.command.to_owned()),
        reason: Some(format!("Kmigrate{}", capitalize(r.command))),
        note: Some(note),
        type_: Some(
            if r.exit_code == Some(0) {
                "Normal"
            } else {
                "Warning"
            }
            .to_owned(),
        ),
        reporting_controller: Some("kmigrate.io/cli".to_owned()),
        reporting_instance: Some(format!("kmigrate@{}", host()).chars().take(128).collect()),
        regarding: Some(ObjectReference {
            api_version: Some(r.regarding.0.to_owned()),
            kind: Some(r.regarding.1.to_owned()),
            name: Some(r.regarding.2.to_owned()),
            namespace: Some(namespace.to_owned()),
            ..ObjectReference::default()
        }),
        ..Event::default()
    };
    // Not retried: a create that got a 503 or 504 may have been written, and the Event's
    // name is generated, so a second one would be a second record of the run. The caller
    // bounds the wait for this one answer.
    let api: Api<Event> = Api::namespaced(conn.exec_client.clone(), namespace);
    api.create(&PostParams::default(), &event)
        .await
        .map(|_| ())
        .map_err(|e| match e {
            kube::Error::Api(s) => s.message,
            other => chain(&other),
        })
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Event whose create got a 503 may have been written: it is not sent again (a
    /// second Event for one run), and the run's end waits for one answer only.
    #[tokio::test]
    async fn an_event_is_created_once_never_retried() {
        use crate::connection::testing::{mock_cluster_retrying, status};
        let (conn, mut handle) = mock_cluster_retrying();
        let server = tokio::spawn(async move {
            let mut creates = 0;
            while let Ok(Some((request, reply))) =
                tokio::time::timeout(std::time::Duration::from_secs(3), handle.next_request()).await
            {
                assert_eq!(request.method(), http::Method::POST);
                creates += 1;
                reply.send_response(status(503, "ServiceUnavailable", "etcd leader changed"));
            }
            creates
        });
        let record = Record {
            command: "migrate",
            user: "alice",
            regarding: ("v1", "Pod", "web-1"),
            exit_code: Some(0),
            not_started: false,
            migrations: vec![1],
            duration_ms: 10,
            argv: "x",
            lock_lost: None,
            destructive_allowed: &[],
        };
        let result = super::record(&conn, "apps", &record).await;
        assert!(result.is_err(), "{result:?}");
        assert_eq!(server.await.unwrap(), 1, "the Event's create was sent once");
    }

    #[test]
    fn arguments_are_hashed_unless_full() {
        let argv = vec!["psql".to_owned(), "postgres://u:hunter2@db/x".to_owned()];
        let hashed = recorded_argv(&argv, false);
        assert!(
            hashed.starts_with("psql (arguments not recorded; argv sha256 "),
            "{hashed}"
        );
        assert!(!hashed.contains("hunter2"));
        assert_eq!(
            hashed,
            recorded_argv(&argv, false),
            "stable, so runs can be compared"
        );
        assert_ne!(hashed, recorded_argv(&argv[..1], false));
        assert!(recorded_argv(&argv, true).contains("hunter2"));
    }
}
