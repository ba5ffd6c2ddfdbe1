//! A small JSON Schema (draft-04) validator, enough for the SARIF 2.1.0 schema.
//!
//! It knows every keyword that schema uses and refuses schemas with any other, so a
//! keyword it silently ignored could not make a test pass. `pattern` supports the five
//! patterns the SARIF schema contains, matched by hand (no regex engine here); `format`
//! checks `uri`, `uri-reference` and `date-time` shapes.

use serde_json::Value;

/// Validates `value` against `schema` (with `root` for `$ref`); errors as JSON pointers.
pub fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        errors.push(format!("{at}: schema is not an object"));
        return;
    };
    for key in obj.keys() {
        let known = [
            "$schema",
            "title",
            "id",
            "description",
            "default",
            "definitions",
            "type",
            "properties",
            "additionalProperties",
            "required",
            "items",
            "minItems",
            "uniqueItems",
            "minimum",
            "enum",
            "anyOf",
            "$ref",
            "pattern",
            "format",
        ];
        if !known.contains(&key.as_str()) {
            errors.push(format!("{at}: unsupported schema keyword `{key}`"));
        }
    }
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        match r
            .strip_prefix("#/definitions/")
            .and_then(|n| root["definitions"].get(n))
        {
            Some(target) => validate(root, target, value, at, errors),
            None => errors.push(format!("{at}: unresolved $ref `{r}`")),
        }
    }
    if let Some(t) = obj.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.iter().any(|t| type_matches(t, value)) {
            errors.push(format!("{at}: expected {types:?}, found {value}"));
            return;
        }
    }
    if let Some(options) = obj.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            errors.push(format!("{at}: {value} is not one of {options:?}"));
        }
    }
    if let Some(options) = obj.get("anyOf").and_then(Value::as_array) {
        let ok = options.iter().any(|s| {
            let mut e = Vec::new();
            validate(root, s, value, at, &mut e);
            e.is_empty()
        });
        if !ok {
            errors.push(format!("{at}: matches none of anyOf"));
        }
    }
    match value {
        Value::Object(map) => {
            let props = obj.get("properties").and_then(Value::as_object);
            for req in obj
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = req.as_str() {
                    if !map.contains_key(name) {
                        errors.push(format!("{at}: missing required `{name}`"));
                    }
                }
            }
            for (k, v) in map {
                let child = format!("{at}/{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(s) => validate(root, s, v, &child, errors),
                    None => match obj.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errors.push(format!("{child}: property not allowed"))
                        }
                        Some(s @ Value::Object(_)) => validate(root, s, v, &child, errors),
                        _ => {}
                    },
                }
            }
        }
        Value::Array(items) => {
            if let Some(min) = obj.get("minItems").and_then(Value::as_u64) {
                if (items.len() as u64) < min {
                    errors.push(format!("{at}: fewer than {min} items"));
                }
            }
            if obj.get("uniqueItems") == Some(&Value::Bool(true)) {
                for (i, a) in items.iter().enumerate() {
                    if items[..i].contains(a) {
                        errors.push(format!("{at}/{i}: duplicate item"));
                    }
                }
            }
            if let Some(s) = obj.get("items") {
                for (i, v) in items.iter().enumerate() {
                    validate(root, s, v, &format!("{at}/{i}"), errors);
                }
            }
        }
        Value::Number(n) => {
            if let (Some(min), Some(x)) = (obj.get("minimum").and_then(Value::as_f64), n.as_f64()) {
                if x < min {
                    errors.push(format!("{at}: {x} below minimum {min}"));
                }
            }
        }
        Value::String(s) => {
            if let Some(p) = obj.get("pattern").and_then(Value::as_str) {
                match pattern_matches(p, s) {
                    Some(true) => {}
                    Some(false) => errors.push(format!("{at}: `{s}` does not match `{p}`")),
                    None => errors.push(format!("{at}: unsupported pattern `{p}`")),
                }
            }
            if let Some(f) = obj.get("format").and_then(Value::as_str) {
                if !format_matches(f, s) {
                    errors.push(format!("{at}: `{s}` is not a valid {f}"));
                }
            }
        }
        _ => {}
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

fn hex_run(s: &str, n: usize) -> bool {
    s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// The SARIF schema's five patterns; `None` for any other.
fn pattern_matches(pattern: &str, s: &str) -> Option<bool> {
    Some(match pattern {
        "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$" => {
            let parts: Vec<&str> = s.split('-').collect();
            parts.len() == 5
                && hex_run(parts[0], 8)
                && hex_run(parts[1], 4)
                && hex_run(parts[2], 4)
                && ('1'..='5').contains(&parts[2].chars().next().unwrap_or('0'))
                && hex_run(parts[3], 4)
                && "89abAB".contains(parts[3].chars().next().unwrap_or('0'))
                && hex_run(parts[4], 12)
        }
        // Unanchored: four dot-separated numbers somewhere in the string.
        "[0-9]+(\\.[0-9]+){3}" => s
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .any(|run| run.split('.').filter(|p| !p.is_empty()).count() >= 4 && !run.contains("..")),
        // Unanchored: a non-slash character, a slash, then anything.
        "[^/]+/.+" => s.char_indices().any(|(i, c)| c == '/' && i > 0 && i + 1 < s.len()),
        "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$" => {
            let alpha2 = |p: &str| p.len() == 2 && p.chars().all(|c| c.is_ascii_alphabetic());
            match s.split_once('-') {
                Some((a, b)) => alpha2(a) && alpha2(b),
                None => alpha2(s),
            }
        }
        _ => return None,
    })
}

fn format_matches(format: &str, s: &str) -> bool {
    let no_space = !s.chars().any(char::is_whitespace);
    match format {
        "uri" => {
            no_space
                && s.split_once(':').is_some_and(|(scheme, _)| {
                    scheme
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic())
                        && scheme
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                })
        }
        "uri-reference" => no_space,
        "date-time" => {
            s.len() >= 20
                && s.as_bytes().get(10) == Some(&b'T')
                && s[..4].chars().all(|c| c.is_ascii_digit())
        }
        _ => true,
    }
}

#[test]
fn the_validator_rejects_what_it_should() {
    let schema: Value = serde_json::json!({
        "type": "object",
        "required": ["a"],
        "additionalProperties": false,
        "properties": { "a": { "type": "integer", "minimum": 1 }, "b": { "$ref": "#/definitions/s" } },
        "definitions": { "s": { "type": "string", "pattern": "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$" } }
    });
    let check = |v: Value| {
        let mut e = Vec::new();
        validate(&schema, &schema, &v, "", &mut e);
        e
    };
    assert!(check(serde_json::json!({"a": 2, "b": "en-US"})).is_empty());
    assert_eq!(check(serde_json::json!({"a": 0})).len(), 1);
    assert_eq!(check(serde_json::json!({"b": "english"})).len(), 2);
    assert_eq!(check(serde_json::json!({"a": 1, "c": 1})).len(), 1);
    let odd = serde_json::json!({ "not": {} });
    let mut e = Vec::new();
    validate(&odd, &odd, &Value::Null, "", &mut e);
    assert_eq!(e.len(), 1, "unknown keywords are refused");
}
