package dev.cortado.generate.constraint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JSON Schema to a byte automaton over compact JSON text. Objects are written with their declared properties in
 * declaration order (required ones always, optional ones maybe; undeclared properties never, which every
 * {@code additionalProperties} setting allows); a schema with no {@code type} takes the types its keywords imply, or
 * any JSON value. Keywords outside the supported set are errors naming the keyword; so is a schema no value satisfies.
 */
final class SchemaCompiler {
    static final Set<String> ANNOTATIONS = Set.of("title", "description", "$schema", "$id", "$comment", "examples",
            "default", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");
    static final Set<String> SUPPORTED = Set.of("type", "properties", "required", "additionalProperties", "enum",
            "const", "anyOf", "oneOf", "items", "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum",
            "exclusiveMinimum", "exclusiveMaximum", "pattern", "$ref", "uniqueItems");
    private static final Map<String, String> HINTS = Map.of(
            "nullable", " (OpenAPI); use \"type\": [\"...\", \"null\"]",
            "format", "; use \"pattern\"",
            "allOf", "; merge the schemas into one",
            "prefixItems", "; use \"items\" with one schema");
    private static final List<String> TYPES = List.of("object", "array", "string", "number", "integer", "boolean", "null");
    /** How often one $ref may be entered on the current path before its branch is cut (recursive schemas). */
    static final int MAX_REF_DEPTH = 3;
    /** Product-automaton budget for pattern + length and oneOf overlap checks. */
    static final int PRODUCT_LIMIT = 200_000;

    private final JsonNode root;
    private final Map<String, Integer> refDepth = new LinkedHashMap<>();
    private boolean cut;

    private SchemaCompiler(JsonNode root) {
        this.root = root;
    }

    static Nfa compile(JsonNode schema) {
        SchemaCompiler c = new SchemaCompiler(schema);
        Nfa n = c.schema(schema, "#");
        if (n.isEmptyLanguage())
            throw new CortadoException("json schema: no JSON value satisfies the schema"
                    + (c.cut ? " (recursive $ref deeper than " + MAX_REF_DEPTH + " levels was cut)" : "")
                    + "; relax the conflicting keywords");
        return n;
    }

    private Nfa schema(JsonNode s, String path) {
        if (s.isBoolean()) return s.booleanValue() ? JsonGrammar.anyValue(JsonGrammar.ANY_DEPTH) : Nfa.nothing();
        if (!s.isObject()) throw error(path, "a schema must be an object or a boolean, got " + s);
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!SUPPORTED.contains(k) && !ANNOTATIONS.contains(k))
                throw error(path, "keyword '" + k + "' is not supported" + HINTS.getOrDefault(k, "")
                        + "; supported: " + String.join(", ", new java.util.TreeSet<>(SUPPORTED)));
        }
        if (s.has("uniqueItems") && s.get("uniqueItems").asBoolean(false))
            throw error(path, "keyword 'uniqueItems': true is not supported; remove it or set it to false");
        if (s.has("$ref")) return ref(s, path);
        if (s.has("anyOf") || s.has("oneOf")) return union(s, path);
        if (s.has("enum") || s.has("const")) return enumeration(s, path);
        List<Nfa> alts = new ArrayList<>();
        for (String t : types(s, path)) alts.add(typed(t, s, path));
        return Nfa.alt(alts);
    }

    private Set<String> types(JsonNode s, String path) {
        Set<String> out = new LinkedHashSet<>();
        JsonNode t = s.get("type");
        if (t == null) {
            if (has(s, "properties", "required", "additionalProperties")) out.add("object");
            if (has(s, "items", "minItems", "maxItems")) out.add("array");
            if (has(s, "minLength", "maxLength", "pattern")) out.add("string");
            if (has(s, "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")) out.add("integer");
            if (out.isEmpty()) out.addAll(List.of("object", "array", "string", "number", "boolean", "null"));
            return out;
        }
        List<JsonNode> list = new ArrayList<>();
        if (t.isArray()) t.forEach(list::add);
        else list.add(t);
        if (list.isEmpty()) throw error(path, "'type' is an empty list");
        for (JsonNode n : list) {
            if (!n.isTextual() || !TYPES.contains(n.asText()))
                throw error(path, "'type' " + n + " is not one of " + TYPES);
            out.add(n.asText());
        }
        if (out.contains("number")) out.remove("integer");
        return out;
    }

    private static boolean has(JsonNode s, String... keys) {
        for (String k : keys) if (s.has(k)) return true;
        return false;
    }

    private Nfa typed(String type, JsonNode s, String path) {
        return switch (type) {
            case "object" -> object(s, path);
            case "array" -> array(s, path);
            case "string" -> string(s, path);
            case "integer" -> integer(s, path);
            case "number" -> {
                for (String k : List.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"))
                    if (s.has(k)) throw error(path, "'" + k + "' is supported for \"type\": \"integer\" only, not number");
                yield JsonGrammar.number();
            }
            case "boolean" -> Nfa.alt(Nfa.literal("true"), Nfa.literal("false"));
            default -> Nfa.literal("null");
        };
    }

    private Nfa object(JsonNode s, String path) {
        Map<String, JsonNode> props = new LinkedHashMap<>();
        JsonNode p = s.get("properties");
        if (p != null) {
            if (!p.isObject()) throw error(path, "'properties' must be an object");
            p.fields().forEachRemaining(e -> props.put(e.getKey(), e.getValue()));
        }
        Set<String> required = new LinkedHashSet<>();
        JsonNode r = s.get("required");
        if (r != null) {
            if (!r.isArray()) throw error(path, "'required' must be an array of property names");
            for (JsonNode n : r) {
                if (!n.isTextual()) throw error(path, "'required' must be an array of property names");
                required.add(n.asText());
            }
        }
        JsonNode extra = s.get("additionalProperties");
        boolean closed = extra != null && extra.isBoolean() && !extra.booleanValue();
        for (String name : required) {
            if (props.containsKey(name)) continue;
            if (closed) throw error(path, "required property '" + name
                    + "' is not in 'properties' and additionalProperties is false; no object satisfies it");
            props.put(name, extra != null && extra.isObject() ? extra : com.fasterxml.jackson.databind.node.BooleanNode.TRUE);
        }
        if (props.isEmpty()) {
            if (closed) return Nfa.literal("{}");
            if (extra != null && extra.isObject()) return JsonGrammar.object(schema(extra, path + "/additionalProperties"));
            return JsonGrammar.anyObject(JsonGrammar.ANY_DEPTH);
        }
        List<Nfa> members = new ArrayList<>();
        List<Boolean> req = new ArrayList<>();
        for (var e : props.entrySet()) {
            Nfa value = schema(e.getValue(), path + "/properties/" + e.getKey());
            boolean isReq = required.contains(e.getKey());
            if (value.isEmptyLanguage()) {
                if (isReq) return Nfa.nothing();
                continue;
            }
            members.add(Nfa.concat(Nfa.literal(jsonString(e.getKey()) + ":"), value));
            req.add(isReq);
        }
        // the first member written is any i such that every member before it is optional
        List<Nfa> alts = new ArrayList<>();
        boolean allOptional = true;
        for (int i = 0; i < members.size(); i++) {
            List<Nfa> seq = new ArrayList<>();
            seq.add(members.get(i));
            for (int j = i + 1; j < members.size(); j++) {
                Nfa m = Nfa.concat(Nfa.literal(","), members.get(j));
                seq.add(req.get(j) ? m : Nfa.optional(m));
            }
            alts.add(Nfa.concat(seq));
            if (req.get(i)) {
                allOptional = false;
                break;
            }
        }
        if (allOptional) alts.add(Nfa.empty());
        return Nfa.concat(Nfa.literal("{"), Nfa.alt(alts), Nfa.literal("}"));
    }

    private Nfa array(JsonNode s, String path) {
        int min = count(s, "minItems", path, 0), max = count(s, "maxItems", path, -1);
        if (max >= 0 && max < min) return Nfa.nothing();
        JsonNode items = s.get("items");
        Nfa item;
        if (items == null) item = JsonGrammar.anyValue(JsonGrammar.ANY_DEPTH - 1);
        else if (items.isArray()) throw error(path, "'items' as an array (tuple) is not supported; use one schema");
        else item = schema(items, path + "/items");
        if (item.isEmptyLanguage()) return min == 0 ? Nfa.literal("[]") : Nfa.nothing();
        return JsonGrammar.array(item, min, max);
    }

    private Nfa string(JsonNode s, String path) {
        int min = count(s, "minLength", path, 0), max = count(s, "maxLength", path, -1);
        if (max > Regex.MAX_REPEAT) throw error(path, "'maxLength' above " + Regex.MAX_REPEAT + " is not supported");
        if (min > Regex.MAX_REPEAT) throw error(path, "'minLength' above " + Regex.MAX_REPEAT + " is not supported");
        JsonNode pat = s.get("pattern");
        Nfa lengths = Nfa.repeat(JsonGrammar.stringChar(CharClass.ANY), min, max);
        if (pat == null) return JsonGrammar.quoted(lengths);
        if (!pat.isTextual()) throw error(path, "'pattern' must be a string");
        Nfa body = Regex.compile(pat.asText(), JsonGrammar::stringChar);
        if (min > 0 || max >= 0) body = product(body, lengths, path, "'pattern' with minLength/maxLength");
        return JsonGrammar.quoted(body);
    }

    private Nfa integer(JsonNode s, String path) {
        Long lo = bound(s, "minimum", path, true), hi = bound(s, "maximum", path, false);
        Long xlo = bound(s, "exclusiveMinimum", path, true), xhi = bound(s, "exclusiveMaximum", path, false);
        if (xlo != null) lo = lo == null ? xlo + 1 : Math.max(lo, xlo + 1);
        if (xhi != null) hi = hi == null ? xhi - 1 : Math.min(hi, xhi - 1);
        if (lo != null && hi != null && lo > hi) return Nfa.nothing();
        return JsonGrammar.integer(lo, hi);
    }

    /** An integer bound: ceil of a lower bound, floor of an upper bound (exclusive ones adjusted by the caller). */
    private Long bound(JsonNode s, String key, String path, boolean lower) {
        JsonNode v = s.get(key);
        if (v == null) return null;
        if (!v.isNumber()) throw error(path, "'" + key + "' must be a number (draft-04 boolean exclusive bounds are not supported)");
        double d = v.asDouble();
        if (Math.abs(d) > 1e17) throw error(path, "'" + key + "' " + v + " is outside the supported range ±1e17");
        boolean exclusive = key.startsWith("exclusive");
        double r = lower ? Math.ceil(d) : Math.floor(d);
        if (exclusive && r != d) r = lower ? r - 1 : r + 1; // x > 1.5 is x >= 2, i.e. x > 1
        return (long) r;
    }

    private int count(JsonNode s, String key, String path, int dflt) {
        JsonNode v = s.get(key);
        if (v == null) return dflt;
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() < 0)
            throw error(path, "'" + key + "' must be a non-negative integer, got " + v);
        return v.intValue();
    }

    private Nfa enumeration(JsonNode s, String path) {
        List<JsonNode> values = new ArrayList<>();
        if (s.has("const")) values.add(s.get("const"));
        if (s.has("enum")) {
            if (!s.get("enum").isArray()) throw error(path, "'enum' must be an array");
            s.get("enum").forEach(values::add);
            if (s.has("const")) values.removeIf(v -> !v.equals(s.get("const")));
        }
        ObjectNode rest = ((ObjectNode) s).deepCopy();
        rest.remove(List.of("enum", "const"));
        boolean constrained = false;
        for (Iterator<String> it = rest.fieldNames(); it.hasNext(); )
            if (!ANNOTATIONS.contains(it.next())) constrained = true;
        Nfa others = constrained ? schema(rest, path) : null;
        List<Nfa> alts = new ArrayList<>();
        for (JsonNode v : values) {
            Nfa lit = Nfa.literal(v.toString());
            if (others != null && (v.isValueNode() ? product(lit, others, path, "enum").isEmptyLanguage()
                    : !types(rest, path).contains(v.isObject() ? "object" : "array"))) continue;
            alts.add(lit);
        }
        if (alts.isEmpty()) throw error(path, "no 'enum'/'const' value satisfies the other keywords of its schema");
        return Nfa.alt(alts);
    }

    private Nfa union(JsonNode s, String path) {
        if (s.has("anyOf") && s.has("oneOf")) throw error(path, "'anyOf' and 'oneOf' in one schema are not supported");
        String key = s.has("anyOf") ? "anyOf" : "oneOf";
        JsonNode list = s.get(key);
        if (!list.isArray() || list.isEmpty()) throw error(path, "'" + key + "' must be a non-empty array");
        List<Nfa> branches = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode b = merge(s, key, list.get(i), path + "/" + key + "/" + i);
            branches.add(schema(b, path + "/" + key + "/" + i));
        }
        if (key.equals("oneOf")) {
            for (int i = 0; i < branches.size(); i++)
                for (int j = i + 1; j < branches.size(); j++)
                    if (!product(branches.get(i), branches.get(j), path, "oneOf overlap check").isEmptyLanguage())
                        throw error(path, "'oneOf' branches " + i + " and " + j
                                + " can produce the same JSON, which oneOf rejects; make them disjoint or use anyOf");
        }
        return Nfa.alt(branches);
    }

    /** A union branch with the sibling keywords of the anyOf/oneOf copied in (a clash is an error). */
    private JsonNode merge(JsonNode parent, String key, JsonNode branch, String path) {
        if (!branch.isObject()) return branch;
        ObjectNode out = ((ObjectNode) branch).deepCopy();
        for (Iterator<Map.Entry<String, JsonNode>> it = parent.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals(key) || ANNOTATIONS.contains(e.getKey())) continue;
            JsonNode mine = out.get(e.getKey());
            if (mine != null && !mine.equals(e.getValue()))
                throw error(path, "keyword '" + e.getKey() + "' is set both next to '" + key + "' and in a branch; "
                        + "move it into the branches");
            out.set(e.getKey(), e.getValue());
        }
        return out;
    }

    private Nfa ref(JsonNode s, String path) {
        String ref = s.get("$ref").asText();
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("$ref") && !ANNOTATIONS.contains(k))
                throw error(path, "keyword '" + k + "' next to '$ref' is not supported; move it into the referenced schema");
        }
        JsonNode target = resolve(ref, path);
        int depth = refDepth.getOrDefault(ref, 0);
        if (depth >= MAX_REF_DEPTH) {
            cut = true;
            return Nfa.nothing();
        }
        refDepth.put(ref, depth + 1);
        try {
            return schema(target, ref);
        } finally {
            refDepth.put(ref, depth);
        }
    }

    private JsonNode resolve(String ref, String path) {
        if (!ref.equals("#") && !ref.startsWith("#/"))
            throw error(path, "'$ref' " + ref + " is not supported; only local references (#/$defs/...) are");
        JsonNode n = root;
        if (ref.length() > 1) {
            for (String part : ref.substring(2).split("/", -1)) {
                String key = java.net.URLDecoder.decode(part.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8)
                        .replace("~1", "/").replace("~0", "~");
                n = n.isArray() && key.matches("\\d+") ? n.get(Integer.parseInt(key)) : n.get(key);
                if (n == null) throw error(path, "'$ref' " + ref + " points to nothing");
            }
        }
        return n;
    }

    private Nfa product(Nfa a, Nfa b, String path, String what) {
        try {
            return Nfa.intersect(a, b, PRODUCT_LIMIT);
        } catch (Nfa.TooComplex e) {
            throw error(path, what + " is too complex to compile (over " + PRODUCT_LIMIT + " states); simplify it");
        }
    }

    static String jsonString(String s) {
        return com.fasterxml.jackson.databind.node.TextNode.valueOf(s).toString();
    }

    private static CortadoException error(String path, String what) {
        return new CortadoException("json schema at " + path + ": " + what);
    }
}
