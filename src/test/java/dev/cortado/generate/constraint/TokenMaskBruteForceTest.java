package dev.cortado.generate.constraint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Token level, on real tokenizers: for random reachable states (random walks over allowed tokens), the cached mask
 * equals brute force over the whole vocabulary. Two references: (1) for every token, the tokenizer's own decode of
 * the generated ids plus that token (complete characters only) is a viable prefix of the regex according to
 * java.util.regex ({@code matches() || hitEnd()}), and (2) for every token, its bytes run through the automaton
 * one by one without dying (covers partial-UTF-8 tokens and JSON schemas, which java.util.regex cannot check).
 */
class TokenMaskBruteForceTest {
    static final String REGEX = "[A-Za-z ,]{0,14}(é|ü|中文|\\?)+ ?[0-9]{2,5}(\\.[0-9])?";
    static final String SCHEMA = """
            {"type":"object","properties":{"name":{"type":"string","maxLength":12},
             "tags":{"type":"array","items":{"enum":["a b","ü","x\\"y"]},"maxItems":3},
             "n":{"type":"integer","minimum":-40,"maximum":1234}},"required":["name","n"]}""";

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "qwen3", "t5-small", "tinyllama-1.1b-chat-v1.0", "stories260K"})
    void maskEqualsBruteForce(String name) {
        Tokenizer tok = Tokenizer.fromFile(name.equals("stories260K") ? Shared.require("models/stories260K/tokenizer.json")
                : Shared.require("models/tokenizers/" + name + "/tokenizer.json"));
        long t0 = System.nanoTime();
        TokenVocabulary vocab = TokenVocabulary.of(tok);
        System.out.printf("%s: vocabulary of %d tokens indexed in %.0f ms%n", name, vocab.size(), (System.nanoTime() - t0) / 1e6);
        Random rnd = new Random(name.hashCode());
        Pattern p = Pattern.compile(REGEX);
        for (Constraint c : List.of(Constraint.regex(REGEX), Constraint.jsonSchema(SCHEMA))) {
            TokenMasks masks = c.masks(vocab);
            for (int walk = 0; walk < (vocab.size() > 100_000 ? 2 : 3); walk++) {
                List<Integer> gen = new ArrayList<>();
                int state = masks.start();
                int steps = rnd.nextInt(8);
                for (int step = 0; ; step++) {
                    boolean atStart = gen.isEmpty();
                    long t1 = System.nanoTime();
                    long[] m = masks.mask(state, atStart);
                    double ms = (System.nanoTime() - t1) / 1e6;
                    List<Integer> allowed = new ArrayList<>();
                    int checkedByRegex = 0;
                    String before = tok.decode(ints(gen), true);
                    for (int id = 0; id < vocab.size(); id++) {
                        boolean bit = (m[id >>> 6] & (1L << id)) != 0;
                        if (bit) allowed.add(id);
                        byte[] b = atStart ? vocab.firstBytes(id) : vocab.bytes(id);
                        boolean sim;
                        synchronized (c.dfa()) {
                            sim = b != null && c.dfa().walk(state, b) != Dfa.DEAD;
                        }
                        int fid = id;
                        assertEquals(sim, bit, () -> name + " " + c.describe() + " token " + fid + " " + tok.idToToken(fid)
                                + " after " + gen);
                        if (c.kind() != Constraint.Kind.REGEX) continue;
                        gen.add(id);
                        String text = tok.decode(ints(gen), true);
                        gen.removeLast();
                        if (text.indexOf('\uFFFD') >= 0) continue; // an incomplete character: covered by (2)
                        checkedByRegex++;
                        boolean viable = !text.equals(before) && viable(p, text);
                        assertEquals(viable, bit, () -> name + " token " + fid + " '" + tok.idToToken(fid) + "' text '"
                                + text + "' after " + gen);
                    }
                    if (c.kind() == Constraint.Kind.REGEX && before.indexOf('\uFFFD') < 0)
                        assertTrue(checkedByRegex > vocab.size() / 2, name + ": too few tokens checked by java.util.regex");
                    if (step == 0 && walk == 0)
                        System.out.printf("  %s: first mask %.1f ms, %d allowed%n", c.describe(), ms, allowed.size());
                    if (step >= steps || allowed.isEmpty()) break;
                    int id = allowed.get(rnd.nextInt(allowed.size()));
                    state = masks.next(state, id, atStart);
                    gen.add(id);
                    assertTrue(state >= 0);
                }
            }
        }
    }

    static boolean viable(Pattern p, String text) {
        Matcher m = p.matcher(text);
        return m.matches() || m.hitEnd();
    }

    static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }
}
