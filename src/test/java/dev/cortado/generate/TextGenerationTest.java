package dev.cortado.generate;

import dev.cortado.CortadoException;
import dev.cortado.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Text-level behaviour: streaming without half characters, stop strings, finish reasons, logprobs, context. */
class TextGenerationTest {
    /**
     * One token per byte-level character (WordLevel over single characters, ByteLevel decoder); "é" is two tokens
     * (Ã = 0xC3, © = 0xA9), so a streamed "é" arrives in two halves. {@link #ids} spells text by hand.
     */
    static final String[] VOCAB = {"<pad>", "<s>", "</s>", "H", "e", "l", "o", "Ġ", "w", "r", "d", "!", "Ċ", "Ã",
            "©", "#", "a", "b", "c", "x", "y", "z", "S", "T", "O", "P", "1", "2", "3", "4", "5", "6"};
    static final Tokenizer TOK = tokenizer();

    static Tokenizer tokenizer() {
        StringBuilder v = new StringBuilder();
        for (int i = 0; i < VOCAB.length; i++) v.append(i == 0 ? "" : ",").append('"').append(VOCAB[i]).append("\":").append(i);
        String added = """
                [{"id":0,"content":"<pad>","special":true},{"id":1,"content":"<s>","special":true},
                 {"id":2,"content":"</s>","special":true}]""";
        return Tokenizer.fromJson("{\"added_tokens\":" + added + ",\"pre_tokenizer\":{\"type\":\"Split\","
                + "\"pattern\":{\"Regex\":\".\"},\"behavior\":\"Isolated\"},\"decoder\":{\"type\":\"ByteLevel\"},"
                + "\"model\":{\"type\":\"WordLevel\",\"unk_token\":\"<pad>\",\"vocab\":{" + v + "}}}");
    }

    static int[] ids(String text) {
        java.util.List<Integer> out = new ArrayList<>();
        for (char c : text.toCharArray()) {
            String t = switch (c) {
                case ' ' -> "Ġ";
                case '\n' -> "Ċ";
                case 'é' -> "Ã©";
                default -> String.valueOf(c);
            };
            for (char x : t.toCharArray()) out.add(java.util.Arrays.asList(VOCAB).indexOf(String.valueOf(x)));
        }
        if (out.contains(-1)) throw new IllegalArgumentException(text);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    static GenerationConfig cfg() {
        return GenerationConfig.greedy().maxNewTokens(30).eosTokenId(2).padTokenId(0);
    }

    @Test
    void tokenizerFixture() {
        assertArrayEquals(new int[] {3, 13, 14, 5}, ids("Hél"));
        assertEquals("Hél", TOK.decode(new int[] {3, 13, 14, 5}, true));
        assertArrayEquals(new int[] {3, 4, 5}, TOK.encode("Hel", false).ids());
    }

    @Test
    void streamsWholeCharactersAndEndsAtEos() {
        ScriptModel m = new ScriptModel(64, ids("Héllo wörld".replace("ö", "o")));
        List<GeneratedToken> seen = new ArrayList<>();
        GenerationResult r = new Generator(m, TOK, cfg()).generate("H", seen::add);
        assertEquals("Héllo world", r.text());
        assertEquals(FinishReason.EOS, r.finishReason());
        assertEquals(2, r.ids()[r.ids().length - 1], "the EOS id is kept in ids");
        StringBuilder sb = new StringBuilder();
        for (GeneratedToken t : seen) {
            assertFalse(t.text().contains("\uFFFD"), "half a character was streamed: " + seen);
            sb.append(t.text());
        }
        assertEquals("", seen.get(1).text(), "the first byte of é is held back");
        assertEquals("é", seen.get(2).text());
        assertEquals(r.text(), sb.toString());
        assertEquals(FinishReason.EOS, seen.getLast().finishReason());
        assertNull(seen.getFirst().finishReason());
        assertNull(seen.getFirst().logprob(), "no logprobs unless asked");
    }

    @Test
    void stopStringAcrossTokensIsCutAndNeverStreamed() {
        ScriptModel m = new ScriptModel(64, ids("Hello ##world"));
        List<GeneratedToken> seen = new ArrayList<>();
        GenerationResult r = new Generator(m, TOK, cfg().stopStrings("##", "xyz")).generate("H", seen::add);
        assertEquals("Hello ", r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
        assertArrayEquals(ids("Hello ##"), r.ids(), "ids up to the token that completed the stop string");
        StringBuilder sb = new StringBuilder();
        for (GeneratedToken t : seen) sb.append(t.text());
        assertEquals("Hello ", sb.toString());
        assertEquals("", seen.get(6).text(), "'#' could start the stop string: held back");
        assertEquals(FinishReason.STOP, seen.getLast().finishReason());
    }

    @Test
    void heldBackTextIsReleasedWhenNoStopFollows() {
        ScriptModel m = new ScriptModel(64, ids("a#b#"));
        List<GeneratedToken> seen = new ArrayList<>();
        GenerationResult r = new Generator(m, TOK, cfg().stopStrings("##")).generate("H", seen::add);
        assertEquals("a#b#", r.text());
        assertEquals(FinishReason.EOS, r.finishReason());
        StringBuilder sb = new StringBuilder();
        for (GeneratedToken t : seen) sb.append(t.text());
        assertEquals("a#b#", sb.toString());
        assertEquals("#b", seen.get(2).text());
        assertEquals("", seen.get(3).text());
        assertEquals("#", seen.get(4).text(), "flushed with the EOS token");
    }

    @Test
    void lengthFinish() {
        ScriptModel m = new ScriptModel(64, ids("Hello world"));
        GenerationResult r = new Generator(m, TOK, cfg().maxNewTokens(4)).generate("H");
        assertEquals("Hell", r.text());
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals("length", r.finishReason().label());
    }

    @Test
    void logprobsFromRawLogits() {
        ScriptModel m = new ScriptModel(64, ids("ab"));
        GenerationConfig c = cfg().logprobs(3).repetitionPenalty(5f).temperature(0.3f);
        GenerationResult r = new Generator(m, TOK, c).generate("H");
        assertEquals(3, r.logprobs().size());
        float want = (float) (10 - Math.log(Math.exp(10) + 31));
        float other = (float) (0 - Math.log(Math.exp(10) + 31));
        TokenLogprob first = r.logprobs().getFirst();
        assertEquals(16, first.id());
        assertEquals("a", first.text());
        assertEquals(want, first.logprob(), 1e-6);
        assertEquals(3, first.top().size());
        assertEquals(new TokenLogprob.Top(16, "a", first.logprob()), first.top().getFirst());
        assertEquals(0, first.top().get(1).id(), "ties broken by id");
        assertEquals(other, first.top().get(1).logprob(), 1e-6);
        assertEquals(3 * want, r.score(), 1e-5);
    }

    @Test
    void contextLimit() {
        ScriptModel m = new ScriptModel(8, ids("abcdefghij".replaceAll("[^abcxyz]", "x")));
        int[] prompt = ids("Hello!");
        CortadoException e = assertThrows(CortadoException.class,
                () -> new Generator(m, TOK, cfg().maxNewTokens(5)).generateIds(new int[][] {prompt}));
        assertTrue(e.getMessage().contains("context is 8"), e.getMessage());
        GenerationResult r = new Generator(m, TOK, cfg().maxNewTokens(5).promptOverflow(PromptOverflow.TRUNCATE_LEFT))
                .generateIds(new int[][] {prompt}).getFirst();
        assertEquals(5, r.ids().length);
        assertArrayEquals(ids("lo!"), m.fed.getLast().getFirst(), "the prompt lost its start");
        // max_length (default 20) is capped at the context: 8 - 6 = 2 new tokens
        r = new Generator(m, TOK, cfg().maxNewTokens(null)).generateIds(new int[][] {prompt}).getFirst();
        assertEquals(2, r.ids().length);
        assertEquals(FinishReason.LENGTH, r.finishReason());
        r = new Generator(m, TOK, cfg().maxNewTokens(0)).generateIds(new int[][] {prompt}).getFirst();
        assertEquals(0, r.ids().length);
    }

    @Test
    void encoderDecoderStartsFromDecoderStart() {
        ScriptModel m = new ScriptModel(64, ids("abc"));
        GenerationConfig c = cfg().encoderDecoder(true).decoderStartTokenId(0).repetitionPenalty(1.5f);
        List<GenerationResult> r = new Generator(m, TOK, c).generateIds(new int[][] {{}, {}});
        assertEquals(2, r.size());
        assertEquals("abc", r.get(0).text());
        assertArrayEquals(new int[] {0}, m.fed.getLast().getFirst(), "decoder prompt = decoder_start_token_id");
        GenerationResult p = new Generator(m, TOK, c).generate("x");
        assertArrayEquals(new int[] {0, 19}, m.fed.getLast().getFirst(), "a text prefix follows the start token");
        assertEquals("abc", p.text(), "the prefix is not part of the generated text");
    }

    @Test
    void beamSearchStreamsItsBestSequencesAtTheEnd() {
        ScriptModel m = new ScriptModel(64, ids("Hé!"));
        List<GeneratedToken> seen = new ArrayList<>();
        List<GenerationResult> r = new Generator(m, TOK, cfg().numBeams(3).numReturnSequences(2).logprobs(0))
                .generateBatch(List.of("H"), seen::add);
        assertEquals(2, r.size());
        assertEquals("Hé!", r.getFirst().text());
        assertEquals(FinishReason.EOS, r.getFirst().finishReason());
        assertEquals(5, r.getFirst().logprobs().size());
        StringBuilder sb = new StringBuilder();
        for (GeneratedToken t : seen) if (t.sequence() == 0) sb.append(t.text());
        assertEquals("Hé!", sb.toString());
    }

    @Test
    void batchedTextPrompts() {
        ScriptModel m = new ScriptModel(64, ids("Oz"));
        List<GenerationResult> r = new Generator(m, TOK, cfg()).generateBatch(List.of("H", "Hello wor"));
        assertEquals("Oz", r.get(0).text());
        assertEquals("Oz", r.get(1).text());
        int[] firstRow = m.fed.getLast().getFirst();
        assertEquals(9, firstRow.length, "left-padded to the longest prompt");
        assertEquals(0, firstRow[0], "padding id");
        assertEquals(3, firstRow[8]);
    }
}
