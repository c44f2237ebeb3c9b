package dev.cortado.tokenizer.pretokenizers;

import dev.cortado.tokenizer.Json;
import dev.cortado.tokenizer.TextPattern;
import dev.cortado.tokenizer.decoders.Decoders;
import java.util.ArrayList;
import java.util.List;

/** Builds pre-tokenizers from tokenizer.json. */
public final class PreTokenizers {
    private PreTokenizers() {}

    public static PreTokenizer fromJson(Json j) {
        String type = j.type();
        if (type == null) throw j.error("missing field 'type'");
        return switch (type) {
            case "BertPreTokenizer" -> new BertPreTokenizer(true);
            case "WhitespaceSplit" -> new BertPreTokenizer(false);
            case "Whitespace" -> new Splitter(TextPattern.regex("\\w+|[^\\w\\s]+", j.path()),
                    Splitter.Behavior.ISOLATED, false);
            case "ByteLevel" -> new ByteLevel(j.bool("add_prefix_space", true), j.bool("use_regex", true));
            case "Split" -> Splitter.fromJson(j);
            case "Metaspace" -> new Metaspace(Character.toString(j.character("replacement", "\u2581")),
                    Decoders.metaspaceScheme(j),
                    j.bool("split", true));
            case "Punctuation" -> new Splitter(new PunctuationPattern(),
                    j.has("behavior") ? Splitter.behavior(j) : Splitter.Behavior.ISOLATED, false);
            case "Digits" -> new Splitter(TextPattern.regex(j.bool("individual_digits", false) ? "\\p{N}" : "\\p{N}+",
                    j.path()), Splitter.Behavior.ISOLATED, false);
            case "Sequence" -> {
                List<PreTokenizer> parts = new ArrayList<>();
                for (Json e : j.arr("pretokenizers").elements()) parts.add(fromJson(e));
                yield (text, out) -> {
                    List<String> cur = List.of(text);
                    for (PreTokenizer p : parts) {
                        List<String> next = new ArrayList<>();
                        for (String s : cur) p.split(s, next);
                        cur = next;
                    }
                    out.addAll(cur);
                };
            }
            default -> throw j.unknownType("pre-tokenizer");
        };
    }

    private static final class PunctuationPattern extends TextPattern {
        @Override
        public void findAll(String text, IntPairs out) {
            for (int i = 0; i < text.length(); ) {
                int cp = text.codePointAt(i);
                int n = Character.charCount(cp);
                if (BertPreTokenizer.isPunctuation(cp)) out.add(i, i + n);
                i += n;
            }
        }
    }
}
