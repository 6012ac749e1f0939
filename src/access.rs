//! What the user may do, asked of the API server with SelfSubjectAccessReviews, to name the
//! missing permission when a 403 does not (the API server's message for a WebSocket exec
//! denial ends at "is forbidden: ").

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::Api;
use kube::api::PostParams;

use crate::connection::{Connection, chain};

/// One permission: a verb on a resource (and subresource) in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission<'a> {
    /// The verb, as RBAC spells it (`create`, `get`, ...).
    pub verb: &'a str,
    /// The API group (`""` for the core group).
    pub group: &'a str,
    /// The resource (`pods`).
    pub resource: &'a str,
    /// The subresource (`exec`), if any.
    pub subresource: Option<&'a str>,
    /// One object's name, for rules that name theirs (`resourceNames`).
    pub name: Option<&'a str>,
}

impl Permission<'_> {
    /// As RBAC rules and kubectl name it: `create pods/exec`.
    pub fn shown(&self) -> String {
        let mut s = format!("{} {}", self.verb, self.resource);
        if let Some(sub) = self.subresource {
            s.push('/');
            s.push_str(sub);
        }
        if !self.group.is_empty() {
            s.push('.');
            s.push_str(self.group);
        }
        if let Some(name) = self.name {
            s.push_str(&format!(" {name:?}"));
        }
        s
    }
}

/// Creating an exec session: WebSocket exec is authorized as `create` (and `get`, the verb
/// of the HTTP request, on older API servers).
pub const EXEC: [Permission<'static>; 2] = [
    Permission {
        verb: "create",
        group: "",
        resource: "pods",
        subresource: Some("exec"),
        name: None,
    },
    Permission {
        verb: "get",
        group: "",
        resource: "pods",
        subresource: Some("exec"),
        name: None,
    },
];

/// Whether the user may do `p` in `namespace`; `None` when the server would not say.
pub async fn allowed(conn: &Connection, namespace: &str, p: &Permission<'_>) -> Option<bool> {
    let api: Api<SelfSubjectAccessReview> = Api::all(conn.client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_owned()),
                verb: Some(p.verb.to_owned()),
                group: Some(p.group.to_owned()),
                resource: Some(p.resource.to_owned()),
                subresource: p.subresource.map(str::to_owned),
                name: p.name.map(str::to_owned),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    match api.create(&PostParams::default(), &review).await {
        Ok(r) => r.status.map(|s| s.allowed),
        Err(e) => {
            tracing::info!(error = %chain(&e), "SelfSubjectAccessReview failed");
            None
        }
    }
}

/// The permissions of `wanted` the user lacks in `namespace`, as `create pods/exec`; empty
/// when none is known to be missing.
pub async fn missing(conn: &Connection, namespace: &str, wanted: &[Permission<'_>]) -> Vec<String> {
    let answers =
        futures::future::join_all(wanted.iter().map(|p| allowed(conn, namespace, p))).await;
    wanted
        .iter()
        .zip(answers)
        .filter(|(_, a)| *a == Some(false))
        .map(|(p, _)| p.shown())
        .collect()
}

/// A 403's message, completed with what is missing when the server left it out.
pub fn explain(message: &str, missing: &[String], namespace: &str) -> String {
    let said = message.trim_end();
    let named = said.contains("cannot ");
    if named || missing.is_empty() {
        return said.to_owned();
    }
    let lead = said.trim_end_matches(':');
    let lead = if lead.is_empty() { "forbidden" } else { lead };
    format!(
        "{lead}: the user may not {} in namespace {namespace:?}",
        missing.join(" or ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_denial_gets_the_missing_verbs() {
        let m = vec!["create pods/exec".to_owned()];
        assert_eq!(
            explain("pods \"demo-0\" is forbidden: ", &m, "shop"),
            "pods \"demo-0\" is forbidden: the user may not create pods/exec in namespace \"shop\""
        );
        assert_eq!(
            explain("", &m, "shop"),
            "forbidden: the user may not create pods/exec in namespace \"shop\""
        );
    }

    #[test]
    fn a_denial_that_names_the_verb_is_kept() {
        let said = "pods is forbidden: User \"alice\" cannot list resource \"pods\"";
        assert_eq!(
            explain(said, &["create pods/exec".to_owned()], "shop"),
            said
        );
        assert_eq!(
            explain("pods is forbidden: ", &[], "shop"),
            "pods is forbidden:"
        );
    }

    #[test]
    fn permissions_are_shown_as_rbac_names_them() {
        assert_eq!(EXEC[0].shown(), "create pods/exec");
        let p = Permission {
            verb: "create",
            group: "coordination.k8s.io",
            resource: "leases",
            subresource: None,
            name: None,
        };
        assert_eq!(p.shown(), "create leases.coordination.k8s.io");
        let named = Permission {
            verb: "get",
            group: "",
            resource: "configmaps",
            subresource: None,
            name: Some("kmigrate"),
        };
        assert_eq!(named.shown(), "get configmaps \"kmigrate\"");
    }
}
