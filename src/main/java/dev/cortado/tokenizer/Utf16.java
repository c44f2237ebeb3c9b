package dev.cortado.tokenizer;

/** UTF-16 helpers. */
final class Utf16 {
    private Utf16() {}

    /** Replaces each unpaired surrogate by U+FFFD (UTF-8, and so HF tokenizers, cannot represent them). */
    static String sanitize(String s) {
        int n = s.length();
        StringBuilder sb = null;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (!Character.isSurrogate(c)) {
                if (sb != null) sb.append(c);
                continue;
            }
            boolean paired = Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1));
            if (paired) {
                if (sb != null) sb.append(c).append(s.charAt(i + 1));
                i++;
                continue;
            }
            if (sb == null) sb = new StringBuilder(n).append(s, 0, i);
            sb.append('\uFFFD');
        }
        return sb == null ? s : sb.toString();
    }
}
