package dev.cortado.tokenizer.decoders;

import dev.cortado.tokenizer.Json;
import dev.cortado.tokenizer.TextPattern;
import dev.cortado.tokenizer.pretokenizers.ByteLevel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Builds decoders: WordPiece, ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, BPEDecoder, Sequence. */
public final class Decoders {
    private Decoders() {}

    public static Decoder fromJson(Json j) {
        String type = j.type();
        if (type == null) throw j.error("missing field 'type'");
        return switch (type) {
            case "WordPiece" -> wordPiece(j.str("prefix", "##"), j.bool("cleanup", true));
            case "ByteLevel" -> ByteLevel::decode;
            case "Metaspace" -> metaspace(j.character("replacement", "\u2581"),
                    !"never".equals(metaspaceScheme(j)));
            case "Replace" -> {
                TextPattern p = TextPattern.fromJson(j.obj("pattern"));
                String content = j.str("content");
                yield tokens -> tokens.stream().map(t -> p.replaceAll(t, content)).toList();
            }
            case "ByteFallback" -> Decoders::byteFallback;
            case "Fuse" -> tokens -> List.of(String.join("", tokens));
            case "Strip" -> strip(j.character("content", " "), j.integer("start", 0, 0, Integer.MAX_VALUE),
                    j.integer("stop", 0, 0, Integer.MAX_VALUE));
            case "BPEDecoder" -> {
                String suffix = j.str("suffix", "</w>");
                yield tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (int i = 0; i < tokens.size(); i++)
                        out.add(tokens.get(i).replace(suffix, i == tokens.size() - 1 ? "" : " "));
                    return out;
                };
            }
            case "Sequence" -> {
                List<Decoder> parts = new ArrayList<>();
                for (Json e : j.arr("decoders").elements()) parts.add(fromJson(e));
                yield tokens -> {
                    for (Decoder d : parts) tokens = d.decodeChain(tokens);
                    return tokens;
                };
            }
            default -> throw j.unknownType("decoder");
        };
    }

    /** "always", "first" or "never", from {@code prepend_scheme} or the legacy {@code add_prefix_space}. */
    public static String metaspaceScheme(Json j) {
        if (j.has("prepend_scheme")) return j.oneOf("prepend_scheme", "always", "always", "first", "never");
        return j.bool("add_prefix_space", true) ? "always" : "never";
    }

    static Decoder wordPiece(String prefix, boolean cleanup) {
        return tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                if (i != 0) t = t.startsWith(prefix) ? t.substring(prefix.length()) : " " + t;
                out.add(cleanup ? cleanup(t) : t);
            }
            return out;
        };
    }

    /** HF {@code cleanup}: removes spaces before punctuation and English contractions. */
    public static String cleanup(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" do not", " don't").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    static Decoder metaspace(int replacement, boolean dropFirst) {
        return tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                StringBuilder sb = new StringBuilder(t.length());
                for (int k = 0; k < t.length(); ) {
                    int cp = t.codePointAt(k);
                    k += Character.charCount(cp);
                    if (cp != replacement) sb.appendCodePoint(cp);
                    else if (i != 0 || !dropFirst) sb.append(' ');
                }
                out.add(sb.toString());
            }
            return out;
        };
    }

    static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String t : tokens) {
            int b = byteToken(t);
            if (b >= 0) {
                bytes.write(b);
                continue;
            }
            flush(bytes, out);
            out.add(t);
        }
        flush(bytes, out);
        return out;
    }

    /** The byte of a {@code <0xXX>} token, or -1. */
    public static int byteToken(String t) {
        if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') return -1;
        int hi = Character.digit(t.charAt(3), 16), lo = Character.digit(t.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    private static void flush(ByteArrayOutputStream bytes, List<String> out) {
        if (bytes.size() == 0) return;
        byte[] b = bytes.toByteArray();
        bytes.reset();
        String s = Utf8.decodeStrict(b);
        if (s != null) out.add(s);
        else for (int i = 0; i < b.length; i++) out.add("\uFFFD");
    }

    static Decoder strip(int content, int start, int stop) {
        return tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                int[] cps = t.codePoints().toArray();
                int s = 0;
                while (s < start && s < cps.length && cps[s] == content) s++;
                int e = cps.length;
                for (int i = 0; i < stop && e > s && cps[e - 1] == content; i++) e--;
                out.add(new String(cps, s, e - s));
            }
            return out;
        };
    }

    /** UTF-8 helpers. */
    public static final class Utf8 {
        private Utf8() {}

        /** The string, or null when {@code b} is not valid UTF-8. */
        public static String decodeStrict(byte[] b) {
            try {
                return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                return null;
            }
        }
    }
}
