package dev.cortado.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** WordPiece via the MiniLM tokenizer.json in the langchain4j jar; expected values from HF tokenizers 0.23.2. */
class MiniLmTokenizerTest {
    static final Tokenizer TOK = Tokenizer.fromClasspath("/all-minilm-l6-v2-tokenizer.json");

    @Test
    void fileSettingsTruncateAndPadTo128() {
        Encoding e = TOK.encode("Hello, world!", true);
        assertEquals(128, e.length());
        assertArrayEquals(new int[] {101, 7592, 1010, 2088, 999, 102, 0}, Arrays.copyOf(e.ids(), 7));
        assertEquals(6, Arrays.stream(e.attentionMask()).sum());
        assertEquals("[PAD]", e.tokens()[127]);
        Encoding longer = TOK.encode("word ".repeat(200), true);
        assertEquals(128, longer.length());
        assertEquals(128, Arrays.stream(longer.attentionMask()).sum());
        assertEquals(102, longer.ids()[127]);
        assertEquals(2773, longer.ids()[126]);
    }

    @Test
    void wordPieceAndBertNormalizer() {
        Tokenizer t = TOK.withPadding(null);
        assertArrayEquals(new int[] {101, 1996, 7427, 3640, 1037, 3075, 2005, 14477, 20961, 3468, 10204, 15743, 1879,
                1755, 3793, 1012, 102}, t.encode("The package provides a library for unaffable Zürich naïve 東京 text.",
                true).ids());
        assertEquals("the package provides a library for unaffable zurich naive 東 京 text.",
                t.decode(t.encode("The package provides a library for unaffable Zürich naïve 東京 text.", true).ids(),
                        true));
        assertEquals(30522, t.vocabSize());
        assertEquals(101, t.tokenToId("[CLS]"));
        assertEquals("##able", t.idToToken(3085));
    }

    @Test
    void batchPaddingToLongest() {
        Tokenizer t = TOK.withPadding(Padding.batchLongest(0, "[PAD]"));
        List<Encoding> b = t.encodeBatch(List.of("a b c", "hello"), true);
        assertArrayEquals(new int[] {101, 1037, 1038, 1039, 102}, b.get(0).ids());
        assertArrayEquals(new int[] {101, 7592, 102, 0, 0}, b.get(1).ids());
        assertArrayEquals(new int[] {1, 1, 1, 0, 0}, b.get(1).attentionMask());
        assertArrayEquals(new int[] {0, 0, 0, 0, 0}, b.get(1).typeIds());
        Tokenizer trunc = t.withTruncation(4);
        assertArrayEquals(new int[] {101, 1037, 1038, 102}, trunc.encode("a b c", true).ids());
        assertArrayEquals(new int[] {1037, 1038, 1039}, trunc.encode("a b c", false).ids());
    }
}
