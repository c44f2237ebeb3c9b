package dev.cortado.tokenizer.pretokenizers;

import dev.cortado.tokenizer.TextPattern;
import java.util.List;

/** HF Metaspace: spaces become {@code ▁}, a {@code ▁} is prepended, and words split before each {@code ▁}. */
public final class Metaspace implements PreTokenizer {
    private final String replacement;
    private final String scheme;
    private final boolean split;
    private final TextPattern pattern;

    public Metaspace(String replacement, String prependScheme, boolean split) {
        this.replacement = replacement;
        this.scheme = prependScheme;
        this.split = split;
        this.pattern = TextPattern.literal(replacement);
    }

    @Override
    public void split(String text, List<String> out) {
        text = text.replace(" ", replacement);
        // "first" would prepend only at the start of the input; segments after an added token are rare: as always
        if (!"never".equals(scheme) && !text.startsWith(replacement)) text = replacement + text;
        if (!split) {
            if (!text.isEmpty()) out.add(text);
            return;
        }
        TextPattern.IntPairs m = new TextPattern.IntPairs();
        pattern.findAll(text, m);
        Splitter.apply(text, m, Splitter.Behavior.MERGED_WITH_NEXT, false, out);
    }
}
