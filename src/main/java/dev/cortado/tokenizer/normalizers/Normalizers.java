package dev.cortado.tokenizer.normalizers;

import dev.cortado.tokenizer.Json;
import dev.cortado.tokenizer.TextPattern;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.List;

/** Builds normalizers from tokenizer.json; holds the small ones. */
public final class Normalizers {
    private Normalizers() {}

    public static Normalizer fromJson(Json j) {
        String type = j.type();
        if (type == null) throw j.error("missing field 'type'");
        return switch (type) {
            case "BertNormalizer" -> new BertNormalizer(j.bool("clean_text", true),
                    j.bool("handle_chinese_chars", true),
                    j.has("strip_accents") ? j.bool("strip_accents", false) : null, j.bool("lowercase", true));
            case "Sequence" -> {
                List<Normalizer> parts = new ArrayList<>();
                for (Json e : j.arr("normalizers").elements()) parts.add(fromJson(e));
                yield text -> {
                    for (Normalizer n : parts) text = n.normalize(text);
                    return text;
                };
            }
            case "NFC" -> unicode(Form.NFC);
            case "NFD" -> unicode(Form.NFD);
            case "NFKC" -> unicode(Form.NFKC);
            case "NFKD" -> unicode(Form.NFKD);
            case "Lowercase" -> Normalizers::lowercase;
            case "StripAccents" -> Normalizers::stripMarks;
            case "Strip" -> {
                boolean left = j.bool("strip_left", true), right = j.bool("strip_right", true);
                yield text -> strip(text, left, right);
            }
            case "Prepend" -> {
                String p = j.str("prepend");
                yield text -> text.isEmpty() ? text : p + text;
            }
            case "Replace" -> {
                TextPattern pattern = TextPattern.fromJson(j.obj("pattern"));
                String content = j.str("content");
                yield text -> pattern.replaceAll(text, content);
            }
            case "Precompiled" -> {
                Json cm = j.opt("precompiled_charsmap");
                yield cm == null ? text -> text : PrecompiledNormalizer.fromBase64(cm.text(), cm.path());
            }
            case "Nmt" -> Normalizers::nmt;
            default -> throw j.unknownType("normalizer");
        };
    }

    private static Normalizer unicode(Form form) {
        return text -> java.text.Normalizer.normalize(text, form);
    }

    /** Per code point full lowercase, as Rust's {@code char::to_lowercase} (no final-sigma context rule). */
    public static String lowercase(String text) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int lc = Character.toLowerCase(cp);
            if ((lc != cp || cp == 0x130) && sb == null) sb = new StringBuilder(text.length()).append(text, 0, i);
            if (sb != null) {
                if (cp == 0x130) sb.append("i\u0307");
                else sb.appendCodePoint(lc);
            }
            i += Character.charCount(cp);
        }
        return sb == null ? text : sb.toString();
    }

    /** Removes nonspacing marks (Mn), as HF StripAccents (which expects NFD input). */
    public static String stripMarks(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK)
                .forEach(sb::appendCodePoint);
        return sb.toString();
    }

    static String strip(String text, boolean left, boolean right) {
        int s = 0, e = text.length();
        if (left) while (s < e && isWhitespace(text.codePointAt(s))) s += Character.charCount(text.codePointAt(s));
        if (right) while (e > s && isWhitespace(text.codePointBefore(e))) e -= Character.charCount(text.codePointBefore(e));
        return text.substring(s, e);
    }

    /** Rust {@code char::is_whitespace}: the Unicode White_Space property. */
    public static boolean isWhitespace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** HF Nmt normalizer: drops some control characters and maps others to a space. */
    static String nmt(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if ((cp >= 0x1 && cp <= 0x8) || cp == 0xB || (cp >= 0xE && cp <= 0x1F) || cp == 0x7F || cp == 0x8F
                    || cp == 0x9F) return;
            if (cp == 0x9 || cp == 0xA || cp == 0xC || cp == 0xD || cp == 0x1680 || (cp >= 0x200B && cp <= 0x200F)
                    || cp == 0x2028 || cp == 0x2029 || cp == 0x2581 || cp == 0xFEFF || cp == 0xFFFD) sb.append(' ');
            else sb.appendCodePoint(cp);
        });
        return sb.toString();
    }
}
