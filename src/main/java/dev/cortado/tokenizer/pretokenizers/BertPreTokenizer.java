package dev.cortado.tokenizer.pretokenizers;

import dev.cortado.tokenizer.normalizers.Normalizers;
import java.util.List;

/** HF BertPreTokenizer: split on whitespace (dropped) and isolate every punctuation character. */
public final class BertPreTokenizer implements PreTokenizer {
    private final boolean punctuation;

    /** {@code punctuation=false} gives HF WhitespaceSplit. */
    public BertPreTokenizer(boolean punctuation) {
        this.punctuation = punctuation;
    }

    @Override
    public void split(String text, List<String> out) {
        int start = -1;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int n = Character.charCount(cp);
            if (Normalizers.isWhitespace(cp)) {
                if (start >= 0) out.add(text.substring(start, i));
                start = -1;
            } else if (punctuation && isPunctuation(cp)) {
                if (start >= 0) out.add(text.substring(start, i));
                out.add(text.substring(i, i + n));
                start = -1;
            } else if (start < 0) {
                start = i;
            }
            i += n;
        }
        if (start >= 0) out.add(text.substring(start));
    }

    /** ASCII punctuation or Unicode P* categories, as HF {@code is_bert_punc}. */
    public static boolean isPunctuation(int cp) {
        if (cp < 128) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96)
                || (cp >= 123 && cp <= 126);
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION, Character.START_PUNCTUATION -> true;
            default -> false;
        };
    }
}
