//! Each normalization feature, on the small specs in `fixtures/`.

mod common;

use common::fixture;
use sdk_gen::*;

fn load_fixture(name: &str) -> Api {
    load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn ty<'a>(api: &'a Api, name: &str) -> &'a NamedType {
    api.types
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no type {name}; have {:?}",
                api.types.iter().map(|t| &t.name).collect::<Vec<_>>()
            )
        })
}

fn op<'a>(api: &'a Api, name: &str) -> &'a Operation {
    api.operation(name).unwrap_or_else(|| {
        panic!(
            "no operation {name}; have {:?}",
            api.operations.iter().map(|o| &o.name).collect::<Vec<_>>()
        )
    })
}

fn object(schema: &Schema) -> &ObjectSchema {
    match &schema.kind {
        SchemaKind::Object(o) => o,
        other => panic!("expected an object, got {other:?}"),
    }
}

fn prop<'a>(schema: &'a Schema, name: &str) -> &'a Property {
    object(schema)
        .properties
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no property {name}"))
}

#[test]
fn api_info_servers_and_security_schemes() {
    let api = load_fixture("features-v30.yaml");
    assert_eq!(api.title, "Feature Zoo API");
    assert_eq!(api.version, "2.1");
    assert_eq!(api.openapi, "3.0.3");
    assert!(api
        .description
        .as_deref()
        .is_some_and(|d| d.starts_with("A small spec")));
    assert_eq!(api.servers[0].url, "https://{region}.zoo.example.com/v2");
    assert_eq!(api.servers[0].variables[0].allowed, ["eu", "us"]);
    assert_eq!(
        api.base_url().as_deref(),
        Some("https://eu.zoo.example.com/v2")
    );
    let kinds: Vec<(&str, &SecuritySchemeKind)> = api
        .security_schemes
        .iter()
        .map(|s| (s.name.as_str(), &s.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                "bearer",
                &SecuritySchemeKind::Bearer {
                    format: Some("JWT".into())
                }
            ),
            ("basic", &SecuritySchemeKind::Basic),
            (
                "key",
                &SecuritySchemeKind::ApiKey {
                    param: "api_key".into(),
                    location: ParamLocation::Query
                }
            ),
            (
                "oauth",
                &SecuritySchemeKind::OAuth2 {
                    scopes: vec!["animals:read".into(), "animals:write".into()]
                }
            ),
        ]
    );
    assert_eq!(api.security.len(), 1);
    assert!(api.security[0].contains_key("bearer"));
    let create = op(&api, "createAnimal");
    let security = create.security.as_ref().expect("operation-level security");
    assert_eq!(security[0]["oauth"], ["animals:write"]);
}

#[test]
fn operation_names_from_ids_paths_and_collisions() {
    let api = load_fixture("features-v30.yaml");
    let names: Vec<&str> = api.operations.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "animalsList",        // animals/list
            "createAnimal",       // create-animal
            "getAnimalsAnimalId", // no operationId: method + path
            "delete_",            // reserved word
            "animalsUploadPhoto", // animals/upload-photo
            "animalsList2",       // duplicate operationId, second in spec order
            "search",
            "uploadFile", // upload_file
            "undeclared",
        ]
    );
    let dup = op(&api, "animalsList2");
    assert_eq!(dup.operation_id.as_deref(), Some("animals/list"));
    assert_eq!(dup.path, "/files/{file_id}#get_shared_link");
    assert_eq!(dup.request_path, "/files/{file_id}");
    let search = op(&api, "search");
    assert_eq!(search.path, "/search?beta=true");
    assert_eq!(search.request_path, "/search");
    assert_eq!(
        search.fixed_query,
        [("beta".to_string(), "true".to_string())]
    );
    assert!(op(&api, "delete_").deprecated);
}

#[test]
fn parameters_locations_styles_and_keys() {
    let api = load_fixture("features-v30.yaml");
    let list = op(&api, "animalsList");
    let summary: Vec<(&str, ParamLocation, ParamStyle, bool)> = list
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.location, p.style, p.explode))
        .collect();
    assert_eq!(
        summary,
        [
            ("limit", ParamLocation::Query, ParamStyle::Form, true), // path-item level, via $ref
            ("kind", ParamLocation::Query, ParamStyle::Form, false),
            ("filter", ParamLocation::Query, ParamStyle::DeepObject, true),
            (
                "X-Request-Id",
                ParamLocation::Header,
                ParamStyle::Simple,
                false
            ),
            ("session", ParamLocation::Cookie, ParamStyle::Form, true),
            // `Accept` is ignored, as OpenAPI 3 requires.
        ]
    );
    let limit = &list.parameters[0];
    assert_eq!(
        limit.description.as_deref(),
        Some("How many items to return.")
    );
    assert_eq!(limit.schema.default, Some(serde_json::json!(20)));

    // Same name in path and query: the second gets a location-prefixed key;
    // a parameter called `body` pushes the request body key aside.
    let get = op(&api, "getAnimalsAnimalId");
    let keys: Vec<(&str, &str)> = get
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.key.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("animal_id", "animal_id"),
            ("animal_id", "query_animal_id"),
            ("body", "body")
        ]
    );
    assert_eq!(get.body_key, "requestBody");
    assert!(get.parameters[0].required, "path parameters are required");

    // A `{name}` in the path without a declaration is added, with a warning.
    let undeclared = op(&api, "undeclared");
    assert_eq!(undeclared.parameters[0].name, "thing");
    assert!(api
        .warnings
        .iter()
        .any(|w| w.message.contains("{thing} is not declared")));
}

#[test]
fn request_bodies_and_responses() {
    let api = load_fixture("features-v30.yaml");
    let create = op(&api, "createAnimal");
    let body = create.request_body.as_ref().expect("body");
    assert!(body.required);
    assert_eq!(
        body.content_type, "application/json",
        "JSON preferred over XML"
    );
    assert_eq!(body.encoding, BodyEncoding::Json);
    let response = create.response.as_ref().expect("response");
    assert_eq!(response.status, "201");

    let photo = op(&api, "animalsUploadPhoto");
    let body = photo.request_body.as_ref().expect("body");
    assert_eq!(body.encoding, BodyEncoding::Binary);
    let response = photo.response.as_ref().expect("response");
    assert_eq!(response.content_type.as_deref(), Some("text/plain"));

    assert_eq!(
        op(&api, "search").request_body.as_ref().map(|b| b.encoding),
        Some(BodyEncoding::Form)
    );
    assert_eq!(
        op(&api, "search")
            .response
            .as_ref()
            .map(|r| r.status.as_str()),
        Some("2XX")
    );
    assert_eq!(
        op(&api, "uploadFile")
            .request_body
            .as_ref()
            .map(|b| b.encoding),
        Some(BodyEncoding::Multipart)
    );
    let delete = op(&api, "delete_").response.as_ref().expect("204");
    assert!(delete.schema.is_none(), "204 without content is void");
}

#[test]
fn schema_features() {
    let api = load_fixture("features-v30.yaml");
    let animal = &ty(&api, "Animal").schema;
    assert_eq!(
        animal.description.as_deref(),
        Some("Any animal in the zoo.")
    );
    assert!(prop(animal, "id").schema.read_only);
    assert!(prop(animal, "id").required);
    assert!(prop(animal, "secret").schema.write_only);
    assert!(prop(animal, "legacy_code").schema.deprecated);
    assert_eq!(
        prop(animal, "born").schema.format.as_deref(),
        Some("date-time")
    );
    // nullable: true → T | null
    assert!(
        matches!(&prop(animal, "name").schema.kind, SchemaKind::Union { variants, .. }
        if matches!(variants[1].kind, SchemaKind::Null))
    );
    // additionalProperties with a schema
    let tags = object(&prop(animal, "tags").schema);
    assert!(tags.properties.is_empty());
    assert!(matches!(
        tags.additional.as_deref().map(|s| &s.kind),
        Some(SchemaKind::String)
    ));
    // discriminated oneOf
    assert!(
        matches!(&ty(&api, "Pet").schema.kind, SchemaKind::Union { variants, discriminator: Some(d) }
        if variants.len() == 2 && d == "kind")
    );
    // allOf
    assert!(
        matches!(&ty(&api, "Cat").schema.kind, SchemaKind::Intersection { parts } if parts.len() == 2)
    );
    // self-reference and a two-schema cycle stay finite
    assert!(
        matches!(&prop(animal, "parent").schema.kind, SchemaKind::Ref { id } if api.ty(*id).name == "Animal")
    );
    let node = &ty(&api, "Node").schema;
    assert!(
        matches!(&prop(node, "owner").schema.kind, SchemaKind::Ref { id } if api.ty(*id).name == "Owner")
    );
    // a `$ref` inside `example` is data: nothing warns about "#/this/is/just/example/data"
    assert!(!api.warnings.iter().any(|w| w.message.contains("example")));
    // a dangling `$ref` is a warning, and the rest still loads
    let dangling = &ty(&api, "Dangling").schema;
    assert!(matches!(
        prop(dangling, "broken").schema.kind,
        SchemaKind::Any
    ));
    assert!(api
        .warnings
        .iter()
        .any(|w| w.message.contains("DoesNotExist")
            && w.location
                .ends_with("#/components/schemas/Dangling/properties/broken")));
}

#[test]
fn type_names_are_valid_unique_and_short() {
    let api = load_fixture("features-v30.yaml");
    let sources: Vec<(&str, &str)> = api
        .types
        .iter()
        .map(|t| (t.source_name.as_str(), t.name.as_str()))
        .collect();
    for expected in [
        ("foo_bar", "FooBar"),
        ("fooBar", "FooBar2"),
        ("Promise", "Promise2"), // would shadow the global Promise<T>
        ("io.zoo.v1.Keeper", "V1Keeper"),
        ("io.zoo.v2.Keeper", "V2Keeper"),
    ] {
        assert!(
            sources.contains(&expected),
            "{expected:?} not in {sources:?}"
        );
    }
    let get = op(&api, "getAnimalsAnimalId");
    assert_eq!(get.params_type, "GetAnimalsAnimalIdParams");
    assert_eq!(get.response_type, "GetAnimalsAnimalIdResponse");
}

#[test]
fn openapi_31_type_arrays_const_and_ref_siblings() {
    let api = load_fixture("features-v31.yaml");
    assert_eq!(api.openapi, "3.1.0");
    assert_eq!(op(&api, "thingsGet").parameters[0].name, "id");
    assert!(
        matches!(&op(&api, "thingsGet").parameters[0].schema.kind, SchemaKind::Union { variants, .. } if variants.len() == 2)
    );
    let thing = &ty(&api, "Thing").schema;
    assert!(
        matches!(&prop(thing, "kind").schema.kind, SchemaKind::Enum { values } if values == &[serde_json::json!("thing")])
    );
    assert!(
        matches!(&prop(thing, "version").schema.kind, SchemaKind::Enum { values } if values == &[serde_json::json!(2)])
    );
    assert!(
        matches!(&prop(thing, "id").schema.kind, SchemaKind::Union { variants, .. }
        if matches!(variants[1].kind, SchemaKind::Null))
    );
    assert!(matches!(
        prop(thing, "anything").schema.kind,
        SchemaKind::Any
    ));
    assert!(matches!(
        prop(thing, "nothing").schema.kind,
        SchemaKind::Never
    ));
    let label = &prop(thing, "label").schema;
    assert!(matches!(label.kind, SchemaKind::Ref { .. }));
    assert!(label
        .description
        .as_deref()
        .is_some_and(|d| d.contains("sibling")));
    // Webhooks are not operations the SDK can call.
    assert_eq!(api.operations.len(), 1);
}

#[test]
fn swagger_2_bodies_forms_collection_formats_and_servers() {
    let api = load_fixture("swagger2.json");
    assert_eq!(api.openapi, "2.0");
    assert_eq!(
        api.servers[0].url, "https://shop.example.com/api",
        "https preferred"
    );
    assert_eq!(api.servers[1].url, "http://shop.example.com/api");
    let list = op(&api, "ordersList");
    let styles: Vec<(&str, ParamStyle, bool, bool)> = list
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.style, p.explode, p.required))
        .collect();
    assert_eq!(
        styles,
        [
            ("status", ParamStyle::Form, true, false),
            ("ids", ParamStyle::PipeDelimited, false, false),
            ("limit", ParamStyle::Form, false, true),
        ]
    );
    assert!(
        matches!(&list.parameters[0].schema.kind, SchemaKind::Array { items }
        if matches!(&items.kind, SchemaKind::Enum { values } if values.len() == 2))
    );
    let create = op(&api, "ordersCreate");
    let body = create.request_body.as_ref().expect("in: body");
    assert!(body.required);
    assert_eq!(body.content_type, "application/json");
    assert!(matches!(body.schema.kind, SchemaKind::Ref { .. }));
    let receipt = op(&api, "ordersUploadReceipt")
        .request_body
        .as_ref()
        .expect("formData");
    assert_eq!(receipt.encoding, BodyEncoding::Multipart);
    assert_eq!(prop(&receipt.schema, "file").schema.kind_name(), "string");
    assert!(prop(&receipt.schema, "file").required);
    let login = op(&api, "login").request_body.as_ref().expect("formData");
    assert_eq!(login.encoding, BodyEncoding::Form);
    let order = &ty(&api, "Order").schema;
    assert!(
        matches!(&prop(order, "note").schema.kind, SchemaKind::Union { .. }),
        "x-nullable"
    );
    assert!(
        matches!(
            &prop(order, "channel").schema.kind,
            SchemaKind::Union { .. }
        ),
        "type array in 2.0"
    );
    assert!(api
        .types
        .iter()
        .any(|t| t.name == "Line" && t.source_name == "io.shop.Line"));
    assert!(matches!(
        &api.security_schemes[0].kind,
        SecuritySchemeKind::ApiKey { param, location: ParamLocation::Header } if param == "X-Api-Key"
    ));
}

#[test]
fn multi_file_specs_resolve_path_items_operations_and_schemas_across_files() {
    let api = load_fixture("multi-file/openapi.yaml");
    assert!(api.warnings.is_empty(), "{:?}", api.warnings);
    let list = op(&api, "dogsList");
    assert_eq!(list.summary.as_deref(), Some("List dogs"));
    assert_eq!(list.parameters[0].name, "limit");
    let get = op(&api, "dogsGet");
    assert_eq!(get.parameters[0].name, "dog_id");
    assert!(get.parameters[0].required);
    // Both operations reach schemas/dog.yaml, by different relative paths: one type.
    let dog_ids: Vec<TypeId> = api
        .types
        .iter()
        .enumerate()
        .filter(|(_, t)| t.source_name == "dog")
        .map(|(i, _)| TypeId(i))
        .collect();
    assert_eq!(dog_ids.len(), 1);
    let dog = &api.ty(dog_ids[0]).schema;
    assert!(
        matches!(&prop(dog, "breed").schema.kind, SchemaKind::Ref { id } if api.ty(*id).name == "Breed")
    );
    // A file that references itself (`items: {$ref: dog.yaml}`) is one recursive type.
    assert!(
        matches!(&prop(dog, "puppies").schema.kind, SchemaKind::Array { items }
        if matches!(items.kind, SchemaKind::Ref { id } if id == dog_ids[0]))
    );
}

#[test]
fn the_same_spec_gives_identical_output() {
    for name in [
        "features-v30.yaml",
        "swagger2.json",
        "multi-file/openapi.yaml",
    ] {
        let a = typescript::declarations(&load_fixture(name), "x").expect("ts");
        let b = typescript::declarations(&load_fixture(name), "x").expect("ts");
        assert_eq!(a, b, "{name}");
    }
}
