# The benchmark's OPA peer of `tollgate authz` (bench/README.md, part 2): the same job for the
# routes the benchmark sends, written the way a Rego author would.
#
#   1. extract the bearer token from the Authorization header;
#   2. verify it (io.jwt.decode_verify: signature against the issuer's JWKS, iss, aud, exp,
#      nbf), and the RFC 9068 header type and an allowed algorithm, as Tollgate is configured;
#   3. map the `sub` claim to the Kafka principal User:<sub>;
#   4. map the route to the Kafka operation it performs (Tollgate: src/routes/route-map.ts);
#   5. decide with Kafka's semantics: super users pass, unknown users fail, any matching DENY
#      wins, READ/WRITE/DELETE/ALTER imply DESCRIBE, ALTER_CONFIGS implies DESCRIBE_CONFIGS,
#      ALL implies everything, LITERAL "*" matches every name, PREFIXED matches by prefix;
#   6. answer Envoy: allow with x-tollgate-principal set, or 401/403 with a reason.
#
# data.tollgate holds `issuer`, `audience`, `jwks` (the JWKS as a JSON string) and `acl`
# (bench/harness/acl-fixture.ts: rules indexed by principal, then by resource type).
package tollgate.authz

http := input.attributes.request.http

bearer := substring(authorization, 7, -1) if {
	authorization := http.headers.authorization
	startswith(authorization, "Bearer ")
}

verified := [header, claims] if {
	[valid, header, claims] := io.jwt.decode_verify(bearer, {
		"cert": data.tollgate.jwks,
		"iss": data.tollgate.issuer,
		"aud": data.tollgate.audience,
	})
	valid
	header.typ == "at+jwt"
	header.alg in {"RS256", "ES256"}
}

principal := sub if {
	sub := verified[1].sub
	is_string(sub)
	sub != ""
}

# Route -> the operations it requires. input.parsed_path is the path split on "/", without
# the query string.
requires := [{"type": "TOPIC", "name": input.parsed_path[1], "op": "WRITE"}] if {
	http.method == "POST"
	count(input.parsed_path) == 2
	input.parsed_path[0] == "topics"
}

requires := [{"type": "TOPIC", "name": input.parsed_path[1], "op": "DESCRIBE"}] if {
	http.method == "GET"
	count(input.parsed_path) == 2
	input.parsed_path[0] == "topics"
}

requires := [{"type": "GROUP", "name": input.parsed_path[1], "op": "READ"}] if {
	http.method == "GET"
	count(input.parsed_path) == 5
	input.parsed_path[0] == "consumers"
	input.parsed_path[2] == "instances"
	input.parsed_path[4] == "records"
}

known_user if data.tollgate.acl.service_users[principal]

known_user if data.tollgate.acl.super_users[principal]

# Operations whose ALLOW grants the requested one.
allow_grants := {
	"DESCRIBE": {"DESCRIBE", "READ", "WRITE", "DELETE", "ALTER", "ALL"},
	"DESCRIBE_CONFIGS": {"DESCRIBE_CONFIGS", "ALTER_CONFIGS", "ALL"},
}

granting_ops(op) := allow_grants[op]

granting_ops(op) := {op, "ALL"} if not allow_grants[op]

kafka_principal := concat("", ["User:", principal])

# Direct references into data, not object.get(data.tollgate.acl.rules, ...): passing the
# whole rules tree to a built-in makes OPA materialise it on every query.
rules_for(type) := array.concat(user_rules(type), wildcard_rules(type))

user_rules(type) := rules if {
	rules := data.tollgate.acl.rules[kafka_principal][type]
} else := []

wildcard_rules(type) := rules if {
	rules := data.tollgate.acl.rules["User:*"][type]
} else := []

name_matches(rule, name) if {
	rule.pattern == "LITERAL"
	rule.name in {name, "*"}
}

name_matches(rule, name) if {
	rule.pattern == "PREFIXED"
	startswith(name, rule.name)
}

allowed_by_rule(req) if {
	some rule in rules_for(req.type)
	rule.permission == "ALLOW"
	rule.op in granting_ops(req.op)
	name_matches(rule, req.name)
}

# DENY rules are not widened: a DENY READ does not deny DESCRIBE.
denied_by_rule(req) if {
	some rule in rules_for(req.type)
	rule.permission == "DENY"
	rule.op in {req.op, "ALL"}
	name_matches(rule, req.name)
}

permitted(_) if data.tollgate.acl.super_users[principal]

permitted(req) if {
	allowed_by_rule(req)
	not denied_by_rule(req)
}

allow if {
	known_user
	every req in requires {
		permitted(req)
	}
}

result := {"allowed": true, "headers": {"x-tollgate-principal": principal}} if {
	allow
} else := {
	"allowed": false,
	"http_status": 401,
	"headers": {"www-authenticate": "Bearer error=\"invalid_token\""},
	"body": "{\"error_code\":40101,\"message\":\"invalid token\"}",
} if {
	not principal
} else := {
	"allowed": false,
	"http_status": 403,
	"body": "{\"error_code\":40301,\"message\":\"not allowed\"}",
}
