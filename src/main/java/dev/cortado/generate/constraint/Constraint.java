package dev.cortado.generate.constraint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.CortadoException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Structured output: the language generated text must belong to, compiled once to a byte automaton (lazily
 * determinized) and, per tokenizer, to allowed-token masks cached per automaton state. Immutable from the outside and
 * thread-safe; compiled constraints are cached by source, so a repeated schema costs nothing to compile.
 *
 * <pre>{@code
 * GenerationConfig c = GenerationConfig.greedy().maxNewTokens(200)
 *         .constraint(Constraint.jsonSchema("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}"));
 * }</pre>
 *
 * Generation under a constraint allows, at each step, only the tokens whose text keeps the output a prefix of an
 * accepted string, and EOS only where the text so far is accepted; once the text is accepted and cannot be extended,
 * EOS is the only choice. If max tokens run out first, the result's finish reason is {@code length} (incomplete).
 */
public final class Constraint {
    /** Where a constraint came from. */
    public enum Kind { JSON_SCHEMA, JSON_OBJECT, REGEX, CHOICE }

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int CACHE_SIZE = 32;
    private static final Map<String, Constraint> COMPILED = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Constraint> e) {
            return size() > CACHE_SIZE;
        }
    };

    private final Kind kind;
    private final String source;
    private final Dfa dfa;
    private final Map<TokenVocabulary, TokenMasks> masks = new WeakHashMap<>();

    private Constraint(Kind kind, String source, Nfa nfa) {
        this.kind = kind;
        this.source = source;
        this.dfa = new Dfa(nfa);
        if (dfa.start() == Dfa.DEAD) throw new CortadoException(describe() + " accepts no text at all");
    }

    /** Output must be one JSON value valid against {@code schemaJson} (compact: no whitespace). */
    public static Constraint jsonSchema(String schemaJson) {
        return cached(Kind.JSON_SCHEMA, schemaJson, () -> {
            JsonNode schema;
            try {
                schema = MAPPER.readTree(schemaJson);
            } catch (JacksonException e) {
                throw new CortadoException("json schema is not valid JSON: " + e.getOriginalMessage(), e);
            }
            if (schema == null) throw new CortadoException("json schema is empty");
            return SchemaCompiler.compile(schema);
        });
    }

    /** {@link #jsonSchema(String)} from a file. */
    public static Constraint jsonSchema(Path file) {
        try {
            return jsonSchema(Files.readString(file));
        } catch (IOException e) {
            throw new CortadoException("cannot read json schema " + file + ": " + e.getMessage(), e);
        } catch (CortadoException e) {
            throw new CortadoException(file + ": " + e.getMessage(), e);
        }
    }

    /** Output must be a JSON object (OpenAI {@code response_format: json_object}), nested at most a few levels. */
    public static Constraint jsonObject() {
        return cached(Kind.JSON_OBJECT, "", () -> JsonGrammar.anyObject(JsonGrammar.ANY_DEPTH));
    }

    /** Output must match {@code pattern} in full (java.util.regex {@code matches()} semantics; subset). */
    public static Constraint regex(String pattern) {
        if (pattern == null || pattern.isEmpty()) throw new CortadoException("regex constraint is empty");
        return cached(Kind.REGEX, pattern, () -> Regex.compile(pattern));
    }

    /** Output must be exactly one of {@code choices}. */
    public static Constraint choice(List<String> choices) {
        if (choices == null || choices.isEmpty()) throw new CortadoException("choice constraint needs at least one choice");
        for (String c : choices)
            if (c == null || c.isEmpty()) throw new CortadoException("choice constraint: choices must not be empty strings");
        return cached(Kind.CHOICE, String.join("\u0000", choices),
                () -> Nfa.alt(choices.stream().map(Nfa::literal).toList()));
    }

    private static Constraint cached(Kind kind, String source, java.util.function.Supplier<Nfa> compile) {
        String key = kind + ":" + source;
        synchronized (COMPILED) {
            Constraint c = COMPILED.get(key);
            if (c != null) return c;
        }
        Nfa nfa;
        try {
            nfa = compile.get();
        } catch (Nfa.TooComplex e) {
            throw new CortadoException(kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                    + " constraint is too large to compile; lower the length/count bounds");
        }
        Constraint c = new Constraint(kind, source, nfa);
        synchronized (COMPILED) {
            COMPILED.putIfAbsent(key, c);
            return COMPILED.get(key);
        }
    }

    public Kind kind() {
        return kind;
    }

    /** The schema text, the pattern, or the choices joined by NUL. */
    public String source() {
        return source;
    }

    /** A short description for messages. */
    public String describe() {
        String s = source.length() > 60 ? source.substring(0, 57) + "..." : source;
        return switch (kind) {
            case JSON_SCHEMA -> "json schema " + s;
            case JSON_OBJECT -> "json object";
            case REGEX -> "regex /" + s + "/";
            case CHOICE -> "choice " + List.of(source.split("\u0000", -1));
        };
    }

    /** Whether {@code text} (the whole output) is accepted. */
    public boolean matches(String text) {
        synchronized (dfa) {
            try {
                return dfa.accepting(dfa.walk(dfa.start(), text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            } catch (Nfa.TooComplex e) {
                throw Dfa.tooLarge();
            }
        }
    }

    /** Whether {@code text} can still be completed to an accepted output. */
    public boolean isPrefix(String text) {
        synchronized (dfa) {
            try {
                return dfa.walk(dfa.start(), text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) != Dfa.DEAD;
            } catch (Nfa.TooComplex e) {
                throw Dfa.tooLarge();
            }
        }
    }

    /** The masks of this constraint over {@code vocab}, built lazily and shared by every generation. */
    public TokenMasks masks(TokenVocabulary vocab) {
        synchronized (masks) {
            return masks.computeIfAbsent(vocab, v -> new TokenMasks(dfa, v));
        }
    }

    Dfa dfa() {
        return dfa;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Constraint c && kind == c.kind && source.equals(c.source);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + source.hashCode();
    }

    @Override
    public String toString() {
        return "Constraint[" + describe() + "]";
    }
}
