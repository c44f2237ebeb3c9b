package dev.cortado.tokenizer.normalizers;

/** HF BertNormalizer: clean text, pad CJK ideographs with spaces, strip accents, lowercase. */
public final class BertNormalizer implements Normalizer {
    private final boolean cleanText, chinese, stripAccents, lowercase;

    public BertNormalizer(boolean cleanText, boolean handleChineseChars, Boolean stripAccents, boolean lowercase) {
        this.cleanText = cleanText;
        this.chinese = handleChineseChars;
        this.stripAccents = stripAccents == null ? lowercase : stripAccents;
        this.lowercase = lowercase;
    }

    @Override
    public String normalize(String text) {
        if (cleanText || chinese) {
            StringBuilder sb = new StringBuilder(text.length() + 8);
            for (int i = 0; i < text.length(); ) {
                int cp = text.codePointAt(i);
                i += Character.charCount(cp);
                if (cleanText) {
                    if (cp == 0 || cp == 0xFFFD || isControl(cp)) continue;
                    if (Normalizers.isWhitespace(cp)) {
                        sb.append(' ');
                        continue;
                    }
                }
                if (chinese && isChinese(cp)) sb.append(' ').appendCodePoint(cp).append(' ');
                else sb.appendCodePoint(cp);
            }
            text = sb.toString();
        }
        if (stripAccents) text = Normalizers.stripMarks(java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFD));
        if (lowercase) text = Normalizers.lowercase(text);
        return text;
    }

    /** Unicode "Other" categories (Cc, Cf, Cn, Co, Cs) except tab, newline and carriage return. */
    static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') return false;
        int t = Character.getType(cp);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.UNASSIGNED
                || t == Character.PRIVATE_USE || t == Character.SURROGATE;
    }

    static boolean isChinese(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
