//! Every real spec in `../shared/specs` loads with all its operations, and
//! the TypeScript generated for each passes `tsc --noEmit --strict`.

mod common;

use common::*;

#[test]
fn every_shared_spec_loads_with_all_operations_and_valid_names() {
    let specs = shared_index();
    assert!(specs.len() >= 20, "INDEX.tsv lists {} specs", specs.len());
    for spec in &specs {
        let api = sdk_gen::load(&spec.path.to_string_lossy())
            .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
        assert_eq!(
            api.operations.len(),
            spec.operations,
            "{}: operation count differs from INDEX.tsv",
            spec.name
        );
        assert!(
            api.warnings.is_empty(),
            "{}: unexpected warnings: {:#?}",
            spec.name,
            api.warnings
        );
        let mut names = std::collections::HashSet::new();
        for op in &api.operations {
            assert!(
                sdk_gen::is_identifier(&op.name),
                "{}: {}",
                spec.name,
                op.name
            );
            assert!(
                names.insert(op.name.as_str()),
                "{}: duplicate {}",
                spec.name,
                op.name
            );
        }
        let mut type_names = std::collections::HashSet::new();
        for ty in &api.types {
            assert!(
                sdk_gen::is_identifier(&ty.name),
                "{}: {}",
                spec.name,
                ty.name
            );
            assert!(
                type_names.insert(ty.name.as_str()),
                "{}: duplicate type {}",
                spec.name,
                ty.name
            );
        }
    }
}

#[test]
fn generated_typescript_for_every_shared_spec_passes_tsc_strict() {
    let mut files = Vec::new();
    for spec in shared_index() {
        let api = sdk_gen::load(&spec.path.to_string_lossy())
            .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
        // Distinct namespaces: all files are checked in one program.
        let namespace = spec.name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        let ts = sdk_gen::typescript::declarations(&api, &namespace)
            .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
        files.push((format!("{}.d.ts", spec.name), ts));
    }
    assert_tsc_accepts(&files);
}

#[test]
fn real_spec_details_survive_normalization() {
    let by_name = |name: &str| {
        let spec = shared_index()
            .into_iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} in INDEX.tsv"));
        sdk_gen::load(&spec.path.to_string_lossy()).expect("loads")
    };
    // GitHub: operationIds like `repos/get` become identifiers.
    let github = by_name("github-octokit");
    let op = github.operation("reposGet").expect("reposGet");
    assert_eq!(op.operation_id.as_deref(), Some("repos/get"));
    assert_eq!(op.path, "/repos/{owner}/{repo}");

    // Box: path keys with fragments are kept; the fragment is not requested.
    let boxed = by_name("box");
    let op = boxed
        .operations
        .iter()
        .find(|o| o.path == "/files/{file_id}#get_shared_link")
        .expect("fragment path");
    assert_eq!(op.request_path, "/files/{file_id}");

    // Kubernetes: dotted schema names get short, unique type names.
    let k8s = by_name("kubernetes");
    assert!(k8s
        .types
        .iter()
        .any(|t| t.name == "Pod" && t.source_name == "io.k8s.api.core.v1.Pod"));

    // Stripe: the 598-value enum is kept whole.
    let stripe = by_name("stripe");
    let in_types = stripe.types.iter().flat_map(|t| enum_sizes(&t.schema));
    let in_operations = stripe.operations.iter().flat_map(|op| {
        op.parameters
            .iter()
            .flat_map(|p| enum_sizes(&p.schema))
            .chain(op.request_body.iter().flat_map(|b| enum_sizes(&b.schema)))
            .collect::<Vec<_>>()
    });
    let biggest = in_types.chain(in_operations).max().unwrap_or(0);
    assert!(biggest >= 598, "largest enum has {biggest} values");

    // DigitalOcean: operations that are whole-file `$ref`s keep their ids.
    let digitalocean = by_name("digitalocean");
    assert!(digitalocean.operation("dropletsGet").is_some());

    // Instagram: no operationIds at all, names come from method and path.
    let instagram = by_name("guru-instagram");
    assert!(instagram
        .operations
        .iter()
        .all(|o| o.operation_id.is_none()));
    assert!(instagram.operation("getUsersUserId").is_some());
}

fn enum_sizes(schema: &sdk_gen::Schema) -> Vec<usize> {
    use sdk_gen::SchemaKind::*;
    match &schema.kind {
        Enum { values } => vec![values.len()],
        Array { items } => enum_sizes(items),
        Object(o) => o
            .properties
            .iter()
            .flat_map(|p| enum_sizes(&p.schema))
            .chain(o.additional.iter().flat_map(|a| enum_sizes(a)))
            .collect(),
        Union { variants, .. } => variants.iter().flat_map(enum_sizes).collect(),
        Intersection { parts } => parts.iter().flat_map(enum_sizes).collect(),
        _ => Vec::new(),
    }
}
