//! The marks a cluster itself puts on a namespace to make it protected: the namespace's
//! `kmigrate.io/protected` label or annotation (cluster-scoped, so least-privilege users
//! often may not read it) and a `kmigrate` ConfigMap in the namespace (which the shipped
//! Role lets them read). A mark that cannot be read never passes silently: a 403 is said
//! once, any other failure counts as protected.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;

use crate::connection::{Connection, chain};

/// The label or annotation on a namespace, and the ConfigMap key, that mark it protected.
pub const KEY: &str = "kmigrate.io/protected";
/// The ConfigMap in the app's namespace that can mark it protected (`protected: "true"`).
pub const CONFIG_MAP: &str = "kmigrate";

/// How one mark's read went.
#[derive(Debug)]
pub enum Read<T> {
    /// The object, or `None` when it does not exist (404).
    Got(Option<T>),
    /// The user may not read it (403).
    Forbidden,
    /// Any other failure, with what the server or the network said.
    Failed(String),
}

/// What the marks say about a namespace.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mark {
    /// Why the namespace counts as protected by its marks, if it does.
    pub protected: Option<String>,
    /// The marks that could not be checked (403), each with why.
    pub unchecked: Vec<String>,
}

/// Read both marks of `namespace` at once and judge them.
pub async fn read(conn: &Connection, namespace: &str) -> Mark {
    let namespaces: Api<Namespace> = Api::all(conn.client.clone());
    let maps: Api<ConfigMap> = Api::namespaced(conn.client.clone(), namespace);
    let (ns, map) = tokio::join!(namespaces.get_opt(namespace), maps.get_opt(CONFIG_MAP));
    judge(namespace, read_of(ns), read_of(map))
}

fn read_of<T>(r: kube::Result<Option<T>>) -> Read<T> {
    match r {
        Ok(got) => Read::Got(got),
        Err(kube::Error::Api(s)) if s.code == 403 => Read::Forbidden,
        Err(e) => Read::Failed(chain(&e)),
    }
}

/// What the two reads say. Either mark protects; a failed read protects too (fail closed).
pub fn judge(namespace: &str, ns: Read<Namespace>, map: Read<ConfigMap>) -> Mark {
    let mut mark = Mark::default();
    let mut why = Vec::new();
    let is_true = |m: &Option<BTreeMap<String, String>>| {
        m.as_ref()
            .and_then(|m| m.get(KEY))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    };
    match ns {
        Read::Got(Some(ns)) => {
            if is_true(&ns.metadata.labels) || is_true(&ns.metadata.annotations) {
                why.push(format!("namespace {namespace:?} is marked {KEY}=true"));
            }
        }
        Read::Got(None) => {}
        Read::Forbidden => mark.unchecked.push(format!(
            "the user may not get namespace {namespace:?} (its {KEY} label)"
        )),
        Read::Failed(e) => why.push(format!(
            "namespace {namespace:?} could not be read to check its {KEY} mark ({e}), so it counts as protected"
        )),
    }
    match map {
        Read::Got(Some(map)) => {
            let says = map
                .data
                .as_ref()
                .and_then(|d| d.get("protected"))
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
            if says {
                why.push(format!(
                    "ConfigMap {CONFIG_MAP} in namespace {namespace:?} says protected: \"true\""
                ));
            }
        }
        Read::Got(None) => {}
        Read::Forbidden => mark.unchecked.push(format!(
            "the user may not get ConfigMap {CONFIG_MAP} in namespace {namespace:?}"
        )),
        Read::Failed(e) => why.push(format!(
            "ConfigMap {CONFIG_MAP} in namespace {namespace:?} could not be read ({e}), so the namespace counts as protected"
        )),
    }
    if !why.is_empty() {
        mark.protected = Some(why.join("; "));
    }
    mark
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;
    use crate::connection::testing::{mock_cluster, object, status};

    fn ns(labels: &[(&str, &str)]) -> Read<Namespace> {
        Read::Got(Some(Namespace {
            metadata: ObjectMeta {
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                ),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        }))
    }

    fn map(protected: &str) -> Read<ConfigMap> {
        Read::Got(Some(ConfigMap {
            data: Some([("protected".to_owned(), protected.to_owned())].into()),
            ..ConfigMap::default()
        }))
    }

    #[test]
    fn either_mark_protects() {
        let m = judge("shop", ns(&[(KEY, "true")]), Read::Got(None));
        assert!(
            m.protected
                .unwrap()
                .contains("is marked kmigrate.io/protected=true")
        );
        let m = judge("shop", Read::Forbidden, map("true"));
        assert!(m.protected.unwrap().contains("ConfigMap kmigrate"));
        let m = judge("shop", ns(&[(KEY, "false")]), map("no"));
        assert_eq!(m, Mark::default());
    }

    #[test]
    fn a_failed_read_counts_as_protected() {
        let m = judge(
            "shop",
            Read::Failed("500 Internal Server Error".into()),
            Read::Got(None),
        );
        let why = m.protected.unwrap();
        assert!(
            why.contains("could not be read") && why.contains("500"),
            "{why}"
        );
        let m = judge("shop", ns(&[]), Read::Failed("connection reset".into()));
        assert!(m.protected.unwrap().contains("connection reset"));
    }

    /// Both reads against a server that answers the namespace with `ns` and the ConfigMap
    /// with `map`, whichever comes first.
    async fn read_from(
        ns: http::Response<kube::client::Body>,
        map: http::Response<kube::client::Body>,
    ) -> Mark {
        let (conn, mut handle) = mock_cluster();
        let server = tokio::spawn(async move {
            let mut answers = [Some(ns), Some(map)];
            for _ in 0..2 {
                let (req, send) = handle.next_request().await.expect("a request");
                let i = match req.uri().path() {
                    "/api/v1/namespaces/shop" => 0,
                    "/api/v1/namespaces/shop/configmaps/kmigrate" => 1,
                    other => panic!("unexpected request {other}"),
                };
                send.send_response(answers[i].take().expect("asked once"));
            }
        });
        let mark = read(&conn, "shop").await;
        server.await.unwrap();
        mark
    }

    #[tokio::test]
    async fn a_server_error_on_the_namespace_fails_closed() {
        let mark = read_from(
            status(500, "InternalError", "etcdserver: request timed out"),
            status(404, "NotFound", "configmaps \"kmigrate\" not found"),
        )
        .await;
        let why = mark.protected.expect("protected");
        assert!(why.contains("counts as protected"), "{why}");
        assert!(mark.unchecked.is_empty());
    }

    #[tokio::test]
    async fn forbidden_namespace_and_a_marking_configmap_protect_and_say_so() {
        let mark = read_from(
            status(403, "Forbidden", "namespaces \"shop\" is forbidden"),
            object(&serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "kmigrate", "namespace": "shop"},
                "data": {"protected": "true"}})),
        )
        .await;
        assert!(mark.protected.unwrap().contains("ConfigMap kmigrate"));
        assert_eq!(mark.unchecked.len(), 1, "{:?}", mark.unchecked);
    }

    #[test]
    fn a_forbidden_read_is_said_not_hidden() {
        let m = judge("shop", Read::Forbidden, Read::Got(None));
        assert_eq!(m.protected, None);
        assert!(
            m.unchecked[0].contains("may not get namespace \"shop\""),
            "{m:?}"
        );
        let m = judge("shop", Read::Forbidden, Read::Forbidden);
        assert_eq!(m.unchecked.len(), 2);
        assert!(judge("shop", ns(&[]), Read::Got(None)).unchecked.is_empty());
    }
}
