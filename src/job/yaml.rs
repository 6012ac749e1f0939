//! YAML for people (`--dry-run`), written from the Job's JSON value.

/// YAML for people (`--dry-run`): block style, strings in JSON quoting (valid YAML).
pub fn to_yaml(value: &serde_json::Value) -> String {
    let mut out = String::new();
    emit(value, 0, &mut out);
    out
}

fn emit(value: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        emit(v, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        emit(v, indent, out);
                    }
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(v))),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        let mut inner = String::new();
                        emit(item, indent + 2, &mut inner);
                        out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}-\n"));
                        emit(item, indent + 2, out);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(_) => "{}".to_owned(),
        serde_json::Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::build;
    use crate::job::spec::tests::{deployment, options};

    #[test]
    fn yaml_is_block_style_with_json_scalars() {
        let job = build(&deployment(), &options()).unwrap();
        let yaml = to_yaml(&serde_json::to_value(&job).unwrap());
        assert!(
            yaml.starts_with("apiVersion: \"batch/v1\"\nkind: \"Job\"\n"),
            "{yaml}"
        );
        assert!(yaml.contains("\n  backoffLimit: 0\n"), "{yaml}");
        assert!(
            yaml.contains("\n      - args:\n        - \"eval\"\n"),
            "{yaml}"
        );
        assert!(yaml.contains("\n        name: \"web\"\n"), "{yaml}");
    }
}
