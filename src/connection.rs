//! How kmigrate connects to the cluster: kubeconfig (or in-cluster) to clients, and how
//! API failures become typed errors.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use kube::client::AuthError;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::error::{Error, usage};

/// Where the connection settings come from.
#[derive(Debug, Clone, Default)]
pub struct KubeArgs {
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context` or the environment's context.
    pub context: Option<String>,
}

/// Clients for one cluster and the facts people need to see.
#[derive(Clone)]
pub struct Connection {
    /// For reads: kube's retry on 429/503/504 stays on.
    pub client: Client,
    /// For exec, writes and audit Events: never retried (a repeat could run a command
    /// twice or leave a second Event). Shares its connections and credentials with `client`.
    pub exec_client: Client,
    /// The context name (`in-cluster` inside a pod).
    pub context: String,
    /// The kubeconfig context's namespace, or `default`.
    pub default_namespace: String,
    /// The API server URL.
    pub server: String,
    /// The kubeconfig's cluster name for the context, if any.
    pub cluster_name: Option<String>,
    /// Where the settings came from: the kubeconfig file(s), or `in-cluster`.
    pub kubeconfig: String,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a run will connect, as the kubeconfig (or in-cluster config) says without sending
/// anything: what decides before connecting (a protected environment with no terminal).
#[derive(Debug, Clone)]
pub struct Destination {
    /// The context name (`in-cluster` inside a pod).
    pub context: String,
    /// The kubeconfig's cluster name for the context, if any.
    pub cluster: Option<String>,
    /// The API server URL.
    pub server: String,
    /// The context's namespace, or `default`.
    pub namespace: String,
}

impl Destination {
    /// The API server's host.
    pub fn host(&self) -> Option<&str> {
        host_of(&self.server)
    }
}

/// Where `args` point, read from files only.
pub async fn destination(args: &KubeArgs) -> Result<Destination> {
    let found = locate(args).await?;
    Ok(Destination {
        server: server_of(&found.config),
        namespace: found.config.default_namespace,
        context: found.context,
        cluster: found.cluster_name,
    })
}

/// A kubeconfig loaded for one context, and what people are shown of it.
struct Located {
    config: Config,
    context: String,
    cluster_name: Option<String>,
    shown: String,
}

/// Load the kubeconfig (flag, `KUBECONFIG` with several files, `~/.kube/config`, in-cluster)
/// and build the clients. Reads files only; nothing is sent yet.
pub async fn connect(args: &KubeArgs) -> Result<Connection> {
    let Located {
        mut config,
        context,
        cluster_name,
        shown,
    } = locate(args).await?;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    // Lets cluster admins tell kmigrate's requests apart in audit logs.
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(concat!("kmigrate/", env!("CARGO_PKG_VERSION"))),
    ));
    let server = server_of(&config);
    let default_namespace = config.default_namespace.clone();
    let (client, exec_client) =
        build_clients(&config).map_err(|e| client_error(&e, &server, &context))?;
    Ok(Connection {
        client,
        exec_client,
        context,
        default_namespace,
        server,
        cluster_name,
        kubeconfig: shown,
    })
}

/// The kubeconfig for the context `args` name (or its current one), or in-cluster config.
async fn locate(args: &KubeArgs) -> Result<Located> {
    let mut cluster_name = None;
    let mut shown = "in-cluster".to_owned();
    let (config, context) = match load_kubeconfig(args.kubeconfig.as_deref())? {
        Some((kubeconfig, source)) => {
            shown = match std::env::var_os("KUBECONFIG") {
                Some(list) if source == "KUBECONFIG" => {
                    format!("KUBECONFIG={}", list.to_string_lossy())
                }
                _ => source.clone(),
            };
            let context = args
                .context
                .clone()
                .or_else(|| kubeconfig.current_context.clone())
                .ok_or_else(|| usage(format!("{source} has no current-context; pass --context")))?;
            if !kubeconfig.contexts.iter().any(|c| c.name == context) {
                let known: Vec<&str> = kubeconfig
                    .contexts
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                return Err(usage(format!(
                    "context {context:?} not found in {source}; available: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )));
            }
            cluster_name = kubeconfig
                .contexts
                .iter()
                .find(|c| c.name == context)
                .and_then(|c| c.context.as_ref())
                .map(|c| c.cluster.clone());
            let options = KubeConfigOptions {
                context: Some(context.clone()),
                ..Default::default()
            };
            let config = Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| {
                    usage(format!(
                        "invalid kubeconfig ({source}, context {context}): {e}"
                    ))
                })?;
            (config, context)
        }
        None => {
            if let Some(ctx) = &args.context {
                return Err(usage(format!(
                    "--context {ctx} given but no kubeconfig found (set KUBECONFIG or --kubeconfig)"
                )));
            }
            let config = Config::incluster().map_err(|e| {
                usage(format!(
                    "no kubeconfig found (no --kubeconfig, KUBECONFIG unset, no ~/.kube/config) and not inside a cluster: {e}"
                ))
            })?;
            (config, "in-cluster".to_owned())
        }
    };
    Ok(Located {
        config,
        context,
        cluster_name,
        shown,
    })
}

/// The two clients, on one stack of kube's own layers (base URI, credentials, headers) over
/// TCP connections with `TCP_NODELAY`: the read client adds kube's retry of 429, 503 and
/// 504 answers; the other (exec, writes, Events) never repeats a request.
///
/// The credentials are resolved once for both: kube runs a kubeconfig's exec credential
/// plugin each time it builds an auth layer, and again each time it builds the TLS
/// settings (to ask for a client certificate), so two clients cost four runs of a plugin
/// such as `aws eks get-token`. Here the auth layer is built once and shared; the TLS
/// settings ask the plugin only when it gave no token (then it gave a client certificate,
/// which the TLS settings need).
///
/// kube's default stack leaves Nagle's algorithm on: a request written right after a new
/// connection's TLS handshake then waits for the server's delayed ACK, 40 ms on Linux,
/// which the release of the lock and the audit Event paid at the end of every run. kubectl
/// (Go) sets it on every connection.
fn build_clients(config: &Config) -> kube::Result<(Client, Client)> {
    use kube::client::ConfigExt;
    use tower::ServiceBuilder;

    let auth = config.auth_layer()?;
    let plugin_gave_a_certificate = config.auth_info.exec.is_some() && auth.is_none();
    let tls = if plugin_gave_a_certificate {
        config.clone()
    } else {
        let mut without_plugin = config.clone();
        without_plugin.auth_info.exec = None;
        without_plugin
    };
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let https = tls.rustls_https_connector_with_connector(http)?;
    let mut timeouts = hyper_timeout::TimeoutConnector::new(https);
    timeouts.set_connect_timeout(config.connect_timeout);
    timeouts.set_read_timeout(config.read_timeout);
    timeouts.set_write_timeout(config.write_timeout);
    let http_client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(timeouts);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(auth)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(http_client);
    let retrying = ServiceBuilder::new()
        .layer(tower::retry::RetryLayer::new(
            kube::client::retry::RetryPolicy::server_retry(),
        ))
        .service(service.clone());
    let namespace = config.default_namespace.clone();
    Ok((
        Client::new(retrying, namespace.clone()),
        Client::new(service, namespace),
    ))
}

/// Why no client could be built: the credentials (77), or the kubeconfig (2).
fn client_error(e: &kube::Error, server: &str, context: &str) -> anyhow::Error {
    if auth_error(e).is_some() {
        return Error::Forbidden {
            message: format!(
                "no credentials for context {context} ({server}): {}",
                chain(e)
            ),
            hint: "Fix the kubeconfig's user (its exec plugin or token), or log in again."
                .to_owned(),
        }
        .into();
    }
    usage(format!("cannot build a client for {server}: {}", chain(e)))
}

/// The files `KUBECONFIG` lists, merged in order; as kubectl does, a listed file that does
/// not exist is skipped (all missing is the same as none given).
fn from_env() -> Result<Option<Kubeconfig>> {
    let Some(value) = std::env::var_os("KUBECONFIG") else {
        return Ok(None);
    };
    let mut merged: Option<Kubeconfig> = None;
    for path in std::env::split_paths(&value).filter(|p| !p.as_os_str().is_empty()) {
        if !path.exists() {
            tracing::info!(path = %path.display(), "KUBECONFIG lists a file that does not exist; skipped");
            continue;
        }
        let kc = Kubeconfig::read_from(&path).map_err(|e| {
            usage(format!(
                "cannot read KUBECONFIG file {}: {}",
                path.display(),
                read_error(&e)
            ))
        })?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m.merge(kc).map_err(|e| {
                usage(format!(
                    "cannot merge the KUBECONFIG files: {}",
                    read_error(&e)
                ))
            })?,
        });
    }
    Ok(merged)
}

/// A kubeconfig read error without the parser's excerpt of the file, which may hold secrets.
fn read_error(e: &kube::config::KubeconfigError) -> String {
    chain(e).lines().next().unwrap_or_default().to_owned()
}

fn load_kubeconfig(flag: Option<&Path>) -> Result<Option<(Kubeconfig, String)>> {
    if let Some(path) = flag {
        let kc = Kubeconfig::read_from(path).map_err(|e| {
            usage(format!(
                "cannot read kubeconfig {}: {}",
                path.display(),
                read_error(&e)
            ))
        })?;
        return Ok(Some((kc, path.display().to_string())));
    }
    if let Some(kc) = from_env()? {
        return Ok(Some((kc, "KUBECONFIG".to_owned())));
    }
    let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
        return Ok(None);
    };
    let path = home.join(".kube").join("config");
    if !path.is_file() {
        return Ok(None);
    }
    let kc = Kubeconfig::read_from(&path).map_err(|e| {
        usage(format!(
            "cannot read kubeconfig {}: {}",
            path.display(),
            read_error(&e)
        ))
    })?;
    Ok(Some((kc, path.display().to_string())))
}

/// An error and its causes on one line. A credential plugin's failure is described
/// without its output or environment (kube's message holds the plugin's whole stdout, the
/// token included, and every `exec.env` value of the kubeconfig).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    if let Some(auth) = auth_error(err) {
        return auth_message(auth);
    }
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        source = e.source();
    }
    out
}

fn auth_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a AuthError> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(a) = e.downcast_ref::<AuthError>() {
            return Some(a);
        }
        if let Some(kube::Error::Auth(a)) = e.downcast_ref::<kube::Error>() {
            return Some(a);
        }
        cur = e.source();
    }
    None
}

/// What went wrong with the credentials, with no secret in it: for a failed plugin its
/// exit status and the end of its stderr (as kubectl shows), never its stdout.
fn auth_message(err: &AuthError) -> String {
    match err {
        AuthError::AuthExecRun { out, .. } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            let tail = tail[tail.len().saturating_sub(3)..].join(" / ");
            let tail: String = tail
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(300)
                .collect();
            if tail.is_empty() {
                format!("the kubeconfig's credential plugin failed ({})", out.status)
            } else {
                format!(
                    "the kubeconfig's credential plugin failed ({}): {tail}",
                    out.status
                )
            }
        }
        AuthError::AuthExecStart(e) => {
            format!("the kubeconfig's credential plugin could not be started: {e}")
        }
        AuthError::AuthExecParse(_) | AuthError::AuthExecSerialize(_) => {
            "the kubeconfig's credential plugin did not print a valid ExecCredential".to_owned()
        }
        AuthError::AuthExec(_) => "the kubeconfig's auth provider failed".to_owned(),
        other => format!("authentication failed: {other}"),
    }
}

impl Connection {
    /// The API server's host name.
    pub fn host(&self) -> Option<&str> {
        host_of(&self.server)
    }
}

/// The API server URL of a config, without its trailing slash.
fn server_of(config: &Config) -> String {
    config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_owned()
}

/// The host of an API server URL.
fn host_of(server: &str) -> Option<&str> {
    let rest = server.split_once("://").map_or(server, |(_, r)| r);
    rest.split(['/', ':']).next().filter(|h| !h.is_empty())
}

/// Turn a kube error into a typed error; `what` says what was being done.
pub fn classify(err: kube::Error, what: &str, conn: &Connection) -> anyhow::Error {
    match err {
        kube::Error::Api(status) if status.code == 403 => Error::Forbidden {
            message: status.message.clone(),
            hint: format!(
                "Ask for the permissions in the Role that `{} init --rbac` prints.",
                crate::program_name::get()
            ),
        }
        .into(),
        kube::Error::Api(status) if status.code == 401 => Error::Forbidden {
            message: format!(
                "{what}: the API server rejected the credentials of context {} (401 Unauthorized)",
                conn.context
            ),
            hint: "Log in again or refresh the token in your kubeconfig.".to_owned(),
        }
        .into(),
        kube::Error::Api(status) => Error::Api(format!(
            "{what}: {} ({} {})",
            status.message, status.code, status.reason
        ))
        .into(),
        other if auth_error(&other).is_some() => Error::Forbidden {
            message: format!(
                "{what}: no credentials for context {}: {}",
                conn.context,
                chain(&other)
            ),
            hint: "Fix the kubeconfig's user (its exec plugin or token), or log in again."
                .to_owned(),
        }
        .into(),
        other => Error::Api(format!(
            "{what}: cannot reach the Kubernetes API at {}: {}",
            conn.server,
            chain(&other)
        ))
        .into(),
    }
}

/// Whether an error is worth retrying for an idempotent read: the request never got an
/// answer. A credential failure (the exec plugin failed on a token refresh, or could not
/// start) is not: it comes back the same, and is the user's to fix (exit 77).
pub fn is_transient(err: &kube::Error) -> bool {
    matches!(err, kube::Error::HyperError(_) | kube::Error::Service(_)) && auth_error(err).is_none()
}

#[cfg(test)]
pub(crate) mod testing {
    //! A connection to an in-memory API server (kube-rs's `tower_test` mock), and answers.

    use http::{Request, Response};
    use kube::Client;
    use kube::client::Body;
    use serde_json::json;
    use tower_test::mock;

    use super::Connection;

    /// The server side: each request, and where to send its answer.
    pub type Handle = mock::Handle<Request<Body>, Response<Body>>;

    /// A connection (context "test", namespace "apps") to a mock server.
    pub fn mock_cluster() -> (Connection, Handle) {
        let (svc, handle) = mock::pair::<Request<Body>, Response<Body>>();
        let client = Client::new(svc, "apps");
        (on(client.clone(), client), handle)
    }

    /// [`mock_cluster`], with the two clients a real connection has: reads through kube's
    /// retry of 429, 503 and 504 answers, and requests that must not repeat without it.
    pub fn mock_cluster_retrying() -> (Connection, Handle) {
        let (svc, handle) = mock::pair::<Request<Body>, Response<Body>>();
        let retrying = tower::ServiceBuilder::new()
            .layer(tower::retry::RetryLayer::new(
                kube::client::retry::RetryPolicy::server_retry(),
            ))
            .service(svc.clone());
        let conn = on(Client::new(retrying, "apps"), Client::new(svc, "apps"));
        (conn, handle)
    }

    /// A connection (context "test", namespace "apps") on these clients.
    fn on(client: Client, exec_client: Client) -> Connection {
        Connection {
            client,
            exec_client,
            context: "test".into(),
            default_namespace: "apps".into(),
            server: "https://mock".into(),
            cluster_name: None,
            kubeconfig: "mock".into(),
        }
    }

    /// A 200 answer with `body` as JSON.
    pub fn object(body: &serde_json::Value) -> Response<Body> {
        Response::builder()
            .body(Body::from(serde_json::to_vec(body).expect("json")))
            .expect("response")
    }

    /// A list of `items`.
    pub fn list(items: Vec<serde_json::Value>) -> Response<Body> {
        object(
            &json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": "1"}, "items": items}),
        )
    }

    /// A failure Status.
    pub fn status(code: u16, reason: &str, message: &str) -> Response<Body> {
        let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code});
        Response::builder()
            .status(code)
            .body(Body::from(serde_json::to_vec(&body).expect("json")))
            .expect("response")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig(dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("config");
        std::fs::write(&path, body).unwrap();
        path
    }

    const TWO_CONTEXTS: &str = "apiVersion: v1\nkind: Config\ncurrent-context: a\n\
clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true\n\
users:\n- name: u\n  user:\n    token: s3cr3t-token\n\
contexts:\n- name: a\n  context:\n    cluster: c\n    user: u\n    namespace: apps\n- name: b\n  context:\n    cluster: c\n    user: u\n";

    /// A credential plugin that fails (a token refresh) or a rejected token is the user's
    /// to fix: retrying it only runs the plugin again and delays the exit code 77.
    #[tokio::test]
    async fn credential_failures_are_never_transient() {
        let plugin = kube::Error::Service(Box::new(AuthError::AuthExecStart(
            std::io::Error::other("no such file"),
        )));
        assert!(!is_transient(&plugin));
        assert!(!is_transient(&kube::Error::Auth(AuthError::AuthExecStart(
            std::io::Error::other("no such file")
        ))));
        let cut = kube::Error::Service(Box::new(std::io::Error::other("connection reset")));
        assert!(is_transient(&cut), "no answer: a read may be tried again");
        let (conn, _) = testing::mock_cluster();
        assert_eq!(
            crate::error::exit_code_of(&classify(plugin, "list pods", &conn)),
            crate::error::code::FORBIDDEN
        );
    }

    #[tokio::test]
    async fn reads_context_and_namespace() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), TWO_CONTEXTS);
        let c = connect(&KubeArgs {
            kubeconfig: Some(path.clone()),
            context: None,
        })
        .await
        .unwrap();
        assert_eq!(
            (c.context.as_str(), c.default_namespace.as_str()),
            ("a", "apps")
        );
        assert_eq!(c.server, "https://127.0.0.1:6443");
        let c = connect(&KubeArgs {
            kubeconfig: Some(path),
            context: Some("b".into()),
        })
        .await
        .unwrap();
        assert_eq!(
            (c.context.as_str(), c.default_namespace.as_str()),
            ("b", "default")
        );
    }

    #[tokio::test]
    async fn missing_context_lists_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), TWO_CONTEXTS);
        let err = connect(&KubeArgs {
            kubeconfig: Some(path),
            context: Some("prod".into()),
        })
        .await
        .err()
        .unwrap();
        let msg = err.to_string();
        assert!(msg.contains("\"prod\"") && msg.contains("a, b"), "{msg}");
        assert!(!msg.contains("s3cr3t"), "{msg}");
        assert_eq!(crate::error::exit_code_of(&err), crate::error::code::USAGE);
    }

    #[tokio::test]
    async fn malformed_or_missing_kubeconfig_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let bad = kubeconfig(dir.path(), "clusters: [this is: not: yaml");
        for path in [bad, dir.path().join("absent")] {
            let err = connect(&KubeArgs {
                kubeconfig: Some(path.clone()),
                context: None,
            })
            .await
            .err()
            .unwrap();
            assert_eq!(
                crate::error::exit_code_of(&err),
                crate::error::code::USAGE,
                "{err}"
            );
            assert!(
                err.to_string().contains(&path.display().to_string()),
                "{err}"
            );
        }
    }
}
