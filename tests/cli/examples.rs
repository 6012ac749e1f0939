//! The CI examples (examples/github-actions, examples/gitlab-ci) against kmigrate itself:
//! every kmigrate line in their scripts, run by bash as the runner would (with the file's
//! variables), gets through kmigrate's parser and validation, so an example cannot drift
//! from the CLI. The cluster is unreachable here, so each line ends at the network (76);
//! `lint`, offline, runs (0). Also the GitLab pipeline's structure, which no offline
//! linter of GitLab's checks (docs/guide/pipelines.md). helm, actionlint, shellcheck and
//! the API server check the rest in tests/e2e/examples.rs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::kubeconfig;
use crate::support::{installed_as, repo, scratch_dir, shell};

/// One script of a CI file: where it is, its text, and the variables it sees.
struct Script {
    place: String,
    text: String,
    vars: BTreeMap<String, String>,
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

/// The string members of a YAML mapping (GitHub's `env`, GitLab's `variables`).
fn vars(map: &Value) -> BTreeMap<String, String> {
    map.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// What the CI service would put in the variables this test cannot get from the file:
/// GitHub's `${{ ... }}` expressions and GitLab's predefined variables.
fn expand(value: &str, known: &BTreeMap<String, String>) -> String {
    let mut out = value.to_owned();
    while let Some(start) = out.find("${{") {
        let end = out[start..].find("}}").map_or(out.len(), |e| start + e + 2);
        out.replace_range(start..end, "0123456789abcdef0123456789abcdef01234567");
    }
    for (name, v) in known {
        out = out
            .replace(&format!("${{{name}}}"), v)
            .replace(&format!("${name}"), v);
    }
    out
}

fn predefined() -> BTreeMap<String, String> {
    [
        ("CI_REGISTRY_IMAGE", "registry.example.com/shop"),
        ("CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

const GITHUB: &str = "examples/github-actions/migrations.yml";
const GITLAB: &str = "examples/gitlab-ci/.gitlab-ci.yml";

/// Every `run` of the workflow, with the workflow's, the job's and the step's `env`.
fn github_scripts() -> Vec<Script> {
    let doc = yaml(GITHUB);
    let top = vars(&doc["env"]);
    let mut scripts = Vec::new();
    for (job, spec) in doc["jobs"].as_object().expect("jobs") {
        for (i, step) in spec["steps"].as_array().expect("steps").iter().enumerate() {
            let Some(text) = step["run"].as_str() else {
                continue;
            };
            let mut env = top.clone();
            env.extend(vars(&spec["env"]));
            env.extend(vars(&step["env"]));
            let vars = env
                .iter()
                .map(|(k, v)| (k.clone(), expand(v, &BTreeMap::new())))
                .collect();
            scripts.push(Script {
                place: format!("{GITHUB}: job {job}, step {}", i + 1),
                text: text.to_owned(),
                vars,
            });
        }
    }
    scripts
}

/// GitLab's keywords that are not jobs, at the top of a pipeline.
const GITLAB_GLOBAL: [&str; 9] = [
    "stages",
    "variables",
    "default",
    "include",
    "workflow",
    "image",
    "services",
    "cache",
    "spec",
];

/// The pipeline's jobs: every top-level key that is no global keyword nor a hidden job.
fn gitlab_jobs(doc: &Value) -> Vec<(&String, &Value)> {
    doc.as_object()
        .expect("a mapping")
        .iter()
        .filter(|(k, _)| !GITLAB_GLOBAL.contains(&k.as_str()) && !k.starts_with('.'))
        .collect()
}

/// Every job's `before_script`, `script` and `after_script`, one line a script, with the
/// pipeline's and the job's `variables` as GitLab expands them.
fn gitlab_scripts() -> Vec<Script> {
    let doc = yaml(GITLAB);
    let mut scripts = Vec::new();
    for (job, spec) in gitlab_jobs(&doc) {
        let mut known = predefined();
        for (k, v) in vars(&doc["variables"])
            .into_iter()
            .chain(vars(&spec["variables"]))
        {
            let v = expand(&v, &known);
            known.insert(k, v);
        }
        for key in ["before_script", "script", "after_script"] {
            let lines: Vec<&str> = match &spec[key] {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a
                    .iter()
                    .map(|l| l.as_str().expect("a script line"))
                    .collect(),
                _ => continue,
            };
            scripts.extend(lines.into_iter().map(|text| Script {
                place: format!("{GITLAB}: job {job}, {key}"),
                text: text.to_owned(),
                vars: known.clone(),
            }));
        }
    }
    scripts
}

/// The script's kmigrate command lines, with `\` continuations joined.
fn kmigrate_lines(script: &str) -> Vec<String> {
    script
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("kmigrate "))
        .map(str::to_owned)
        .collect()
}

/// A folder for the lines to run in, as a checkout would be after the earlier steps: a
/// migration for `lint`, and the `plan-hash` file a plan job keeps.
fn workspace() -> PathBuf {
    let dir = scratch_dir("examples");
    let migrations = dir.join("priv/repo/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(
        migrations.join("20240101120000_create_posts.exs"),
        "defmodule Shop.Repo.Migrations.CreatePosts do\n  use Ecto.Migration\n\n  def change do\n    create table(:posts) do\n      add :title, :string\n    end\n  end\nend\n",
    )
    .unwrap();
    std::fs::write(dir.join("plan-hash"), format!("{}\n", "ab".repeat(32))).unwrap();
    dir
}

/// Run each kmigrate line of `scripts` with bash, the built binary as `kmigrate` on PATH and
/// an unreachable cluster; return the lines run.
fn run_lines(scripts: &[Script], dir: &Path) -> Vec<String> {
    let bin = installed_as(&["kmigrate"]);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let config = kubeconfig(dir, "https://127.0.0.1:1");
    let mut ran = Vec::new();
    for script in scripts {
        for line in kmigrate_lines(&script.text) {
            let mut run = shell(&line)
                .dir(dir)
                .env("PATH", &path)
                .env("KUBECONFIG", &config);
            for (k, v) in &script.vars {
                run = run.env(k, v);
            }
            if line.starts_with("kmigrate lint") {
                run.status(0);
            } else {
                // Past the parser and the settings, at the first API call: not a usage
                // error (2), whatever the line.
                run.expect_stderr("cannot reach the Kubernetes API")
                    .status(76);
            }
            ran.push(format!("{}: {line}", script.place));
        }
    }
    ran
}

/// The flow is there: lint, plan, a migrate held to the plan with JSON output, and
/// the status gate.
fn assert_the_flow(lines: &[String]) {
    let has = |what: &[&str]| {
        assert!(
            lines.iter().any(|l| what.iter().all(|w| l.contains(w))),
            "no kmigrate line with {what:?} in {lines:#?}"
        );
    };
    has(&["kmigrate lint"]);
    has(&["kmigrate plan", "--image", "-o json"]);
    has(&[
        "kmigrate migrate",
        "--image",
        "--plan \"$(cat plan-hash)\"",
        "--yes",
        "-o json",
    ]);
    has(&["kmigrate status", "--exit-code"]);
}

#[test]
fn every_kmigrate_line_of_the_github_workflow_parses_and_runs() {
    let ran = run_lines(&github_scripts(), &workspace());
    assert_the_flow(&ran);
    assert!(
        ran.iter().any(|l| l.contains("kmigrate lint --github")),
        "{ran:#?}"
    );
}

#[test]
fn every_kmigrate_line_of_the_gitlab_pipeline_parses_and_runs() {
    let ran = run_lines(&gitlab_scripts(), &workspace());
    assert_the_flow(&ran);
}

/// The test reads what CI runs: a line it would miss (a typo'd flag) fails it.
#[test]
fn a_drifted_line_is_a_usage_error() {
    let script = Script {
        place: "a drifted example".into(),
        text: "kmigrate status --exit-codes".into(),
        vars: BTreeMap::new(),
    };
    let result = std::panic::catch_unwind(|| run_lines(&[script], &workspace()));
    assert!(result.is_err(), "a misspelt flag must fail the check");
}

/// GitLab's keywords of a job (docs.gitlab.com/ci/yaml), the ones a job may carry.
const GITLAB_JOB_KEYS: [&str; 33] = [
    "after_script",
    "allow_failure",
    "artifacts",
    "before_script",
    "cache",
    "coverage",
    "dast_configuration",
    "dependencies",
    "environment",
    "extends",
    "hooks",
    "identity",
    "id_tokens",
    "image",
    "inherit",
    "interruptible",
    "manual_confirmation",
    "needs",
    "pages",
    "parallel",
    "release",
    "resource_group",
    "retry",
    "rules",
    "script",
    "secrets",
    "services",
    "stage",
    "tags",
    "timeout",
    "trigger",
    "variables",
    "when",
];

/// What can be checked without GitLab: each job's keys are job keywords, its stage is
/// declared, it has a script, `needs` names jobs of the pipeline in earlier or the same
/// stages, and `rules` use known `when` values.
#[test]
fn the_gitlab_pipeline_is_well_formed() {
    let doc = yaml(GITLAB);
    let stages: Vec<&str> = doc["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s.as_str().expect("a stage name"))
        .collect();
    let jobs = gitlab_jobs(&doc);
    let stage_of: BTreeMap<&str, usize> =
        jobs.iter()
            .map(|(name, spec)| {
                let stage = spec["stage"].as_str().unwrap_or("test");
                let at = stages.iter().position(|s| *s == stage).unwrap_or_else(|| {
                    panic!("job {name}: stage {stage} is not in stages {stages:?}")
                });
                (name.as_str(), at)
            })
            .collect();
    assert!(jobs.len() >= 4, "{:?}", stage_of);
    for (name, spec) in &jobs {
        for key in spec.as_object().expect("a job is a mapping").keys() {
            assert!(
                GITLAB_JOB_KEYS.contains(&key.as_str()),
                "job {name}: {key} is not a job keyword"
            );
        }
        let script = spec["script"].as_array().expect("a job has a script list");
        assert!(
            !script.is_empty() && script.iter().all(Value::is_string),
            "job {name}"
        );
        for need in spec["needs"].as_array().into_iter().flatten() {
            let need = need.as_str().expect("needs: job names");
            let at = stage_of
                .get(need)
                .unwrap_or_else(|| panic!("job {name} needs {need}, which is no job"));
            assert!(
                *at <= stage_of[name.as_str()],
                "job {name} needs {need} of a later stage"
            );
        }
        for rule in spec["rules"].as_array().into_iter().flatten() {
            if let Some(when) = rule["when"].as_str() {
                assert!(
                    [
                        "on_success",
                        "on_failure",
                        "always",
                        "never",
                        "manual",
                        "delayed"
                    ]
                    .contains(&when),
                    "job {name}: when {when}"
                );
            }
        }
    }
    // The approval is a manual job before the migration, and the plan is kept for it.
    let migrate = &doc["migrate"];
    assert_eq!(migrate["rules"][0]["when"], "manual");
    assert_eq!(migrate["allow_failure"], false);
    let kept = &doc["plan-migrations"]["artifacts"]["paths"];
    assert!(
        kept.as_array().unwrap().iter().any(|p| p == "plan-hash"),
        "{kept}"
    );
}
