package dev.cortado.tokenizer.normalizers;

import dev.cortado.tokenizer.Json;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.text.BreakIterator;
import java.util.Base64;

/**
 * SentencePiece {@code precompiled_charsmap} normalizer, as HF ({@code spm_precompiled}): a darts-clone double
 * array over UTF-8 keys; each grapheme cluster under 6 bytes is replaced by the value of the SHORTEST rule that
 * prefixes it, otherwise each character is looked up alone.
 */
final class PrecompiledNormalizer implements Normalizer {
    private final int[] units;
    private final byte[] normalized;
    private final String[] ascii = new String[128]; // transform of each ASCII char alone (null: unchanged)

    private PrecompiledNormalizer(int[] units, byte[] normalized) {
        this.units = units;
        this.normalized = normalized;
        for (int c = 0; c < 128; c++) ascii[c] = transform(new byte[] {(byte) c});
    }

    static Normalizer fromBase64(String b64, String path) {
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw Json.error(path, "precompiled_charsmap is not base64: " + e.getMessage());
        }
        if (blob.length < 4) throw Json.error(path, "precompiled_charsmap is too short");
        ByteBuffer bb = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        int trieSize = bb.getInt();
        if (trieSize < 0 || trieSize % 4 != 0 || 4L + trieSize > blob.length)
            throw Json.error(path, "precompiled_charsmap: bad trie size " + trieSize);
        int[] units = new int[trieSize / 4];
        for (int i = 0; i < units.length; i++) units[i] = bb.getInt();
        byte[] norm = new byte[blob.length - 4 - trieSize];
        bb.get(norm);
        return new PrecompiledNormalizer(units, norm);
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }

    /** The replacement for the shortest rule prefixing {@code key}, or null. */
    private String transform(byte[] key) {
        if (units.length == 0) return null;
        int pos = offset(units[0]);
        for (byte kb : key) {
            int c = kb & 0xFF;
            if (c == 0) break;
            pos ^= c;
            if (pos < 0 || pos >= units.length) return null;
            int unit = units[pos];
            if ((unit & 0x800000FF) != c) return null;
            pos ^= offset(unit);
            if (((unit >>> 8) & 1) == 1) {
                if (pos < 0 || pos >= units.length) return null;
                int v = units[pos] & 0x7FFFFFFF;
                if (v > normalized.length) return null;
                int end = v;
                while (end < normalized.length && normalized[end] != 0) end++;
                return new String(normalized, v, end - v, StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    @Override
    public String normalize(String text) {
        boolean simple = true; // ASCII without CR: every character is its own grapheme cluster
        for (int i = 0; i < text.length() && simple; i++) simple = text.charAt(i) < 128 && text.charAt(i) != '\r';
        if (simple) {
            StringBuilder sb = null;
            for (int i = 0; i < text.length(); i++) {
                String t = ascii[text.charAt(i)];
                if (t != null && sb == null) sb = new StringBuilder(text.length()).append(text, 0, i);
                if (sb != null) {
                    if (t != null) sb.append(t);
                    else sb.append(text.charAt(i));
                }
            }
            return sb == null ? text : sb.toString();
        }
        StringBuilder sb = new StringBuilder(text.length());
        BreakIterator it = BreakIterator.getCharacterInstance(java.util.Locale.ROOT);
        it.setText(text);
        int start = it.first();
        for (int end = it.next(); end != BreakIterator.DONE; start = end, end = it.next()) {
            String g = text.substring(start, end);
            byte[] gb = g.getBytes(StandardCharsets.UTF_8);
            if (gb.length < 6) {
                String t = transform(gb);
                if (t != null) {
                    sb.append(t);
                    continue;
                }
            }
            for (int i = 0; i < g.length(); ) {
                int cp = g.codePointAt(i);
                int n = Character.charCount(cp);
                String c = g.substring(i, i + n);
                String t = transform(c.getBytes(StandardCharsets.UTF_8));
                sb.append(t != null ? t : c);
                i += n;
            }
        }
        return sb.toString();
    }
}
