package dev.cortado.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.CortadoException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/**
 * tokenizer.json regexes (translated from Oniguruma, run on RE2/J or the bounded fallback) against what HF
 * {@code tokenizers} 0.23.2 matches ({@code models/goldens/make_regex_goldens.py}).
 */
class RegexSemanticsTest {
    static JsonNode goldens() throws Exception {
        return new ObjectMapper().readTree(RegexSemanticsTest.class.getResource(
                "/goldens/tokenizers/regex_semantics.json"));
    }

    static List<List<Integer>> matches(TextPattern p, String text) {
        TextPattern.IntPairs m = new TextPattern.IntPairs();
        p.findAll(text, m);
        List<List<Integer>> out = new ArrayList<>();
        for (int k = 0; k < m.size(); k++) out.add(List.of(m.start(k), m.end(k)));
        return out;
    }

    @Test
    void matchesLikeHuggingFace() throws Exception {
        int n = 0;
        for (JsonNode c : goldens().get("cases")) {
            String rx = c.get("regex").textValue(), text = c.get("text").textValue();
            List<List<Integer>> expected = new ArrayList<>();
            for (JsonNode m : c.get("matches")) expected.add(List.of(m.get(0).intValue(), m.get(1).intValue()));
            assertEquals(expected, matches(TextPattern.regex(rx, "$.x"), text), "regex " + rx + " on " + text);
            n++;
        }
        assertTrue(n >= 300, "cases: " + n);
    }

    /** Valid in Oniguruma but with no exact linear-time equivalent: a clear load error, not a different answer. */
    @Test
    void unsupportedConstructsAreLoadErrors() throws Exception {
        int n = 0;
        for (JsonNode r : goldens().get("unsupported_but_valid_in_oniguruma")) {
            String rx = r.textValue();
            String m = assertThrows(CortadoException.class, () -> TextPattern.regex(rx, "$.pre_tokenizer.pattern.Regex"),
                    rx).getMessage();
            assertTrue(m.startsWith("tokenizer.json $.pre_tokenizer.pattern.Regex: invalid regex '")
                    && m.contains("not supported") && !m.contains("\n"), m);
            n++;
        }
        assertEquals(12, n);
    }

    /** Oniguruma's \s \w \d \h \p{L} \p{N} vs the sets Cortado uses (JDK Unicode tables, which may be newer). */
    @Test
    void characterClassesLikeOniguruma() throws Exception {
        JsonNode classes = goldens().get("classes");
        check(classes.get("\\s"), OnigSyntax::isSpace, 0);
        check(classes.get("\\h"), cp -> cp < 128 && Character.digit(cp, 16) >= 0, 0);
        check(classes.get("\\d"), OnigSyntax::isDigit, 100);
        check(classes.get("\\w"), OnigSyntax::isBareWord, 6000);
        check(classes.get("\\p{L}"), Character::isLetter, 6000);
        check(classes.get("\\p{N}"), cp -> {
            int t = Character.getType(cp);
            return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
        }, 500);
    }

    /** Differences only on characters the reference's Unicode version does not assign (newer JDK tables). */
    private static void check(JsonNode ranges, IntPredicate java, int maxNewer) {
        boolean[] onig = new boolean[Character.MAX_CODE_POINT + 1];
        for (JsonNode r : ranges) for (int cp = r.get(0).intValue(); cp <= r.get(1).intValue(); cp++) onig[cp] = true;
        int diff = 0;
        StringBuilder first = new StringBuilder();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            if (onig[cp] != java.test(cp)) {
                diff++;
                if (onig[cp] || diff > maxNewer) first.append(String.format(" U+%04X(onig=%b)", cp, onig[cp]));
            }
        }
        assertTrue(first.isEmpty() && diff <= maxNewer, diff + " differences:" + first);
    }

    @Test
    void catastrophicBacktrackingPatternIsLinear() {
        TextPattern p = TextPattern.regex("(a+)+$", "$.x");
        String text = "a".repeat(30_000) + "b";
        // reference: (a+)+$ only matches a run of a's that reaches a line end; here none does
        List<List<Integer>> m = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> matches(p, text));
        assertEquals(List.of(), m);
        String ok = "a".repeat(30_000);
        assertEquals(List.of(List.of(0, 30_000)),
                assertTimeoutPreemptively(Duration.ofSeconds(20), () -> matches(p, ok)));
    }

    /** A lookaround regex runs on java.util.regex with a linear step budget: exceeding it is an error, not a hang. */
    @Test
    void backtrackingFallbackIsBounded() {
        TextPattern p = TextPattern.regex("(?:a|aa)+(?=b)", "$.pre_tokenizer.pattern.Regex");
        assertEquals(List.of(List.of(0, 3)), matches(p, "aaab"));
        String text = "a".repeat(20_000) + "c";
        String m = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(CortadoException.class, () -> matches(p, text))).getMessage();
        assertTrue(m.startsWith("tokenizer.json $.pre_tokenizer.pattern.Regex: regex '(?:a|aa)+(?=b)' uses lookaround")
                && m.contains("backtracks too much"), m);
    }
}
