package dev.cortado.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded stdin-like hostile text for tokenizer fuzzing: invalid UTF-8 (decoded as the CLI reads it), lone surrogates,
 * NULs and control characters, combining-mark runs, astral and RTL text, whitespace runs, digit runs, special-token
 * literals glued to text, and now and then a huge input. (Mutations covers files; this covers text.)
 */
final class HostileText {
    private static final String[] SAMPLES = {"Hello, world!", "The quick brown fox's jumps", "  leading  and   trailing ",
        "naïve café — “quotes” … 漢字かな한국어", "مرحبا بالعالم", "שלום", "12,345.678 km²", "x\u0301\u0302y", "🎉👩‍💻🇩🇪",
        "tab\there\r\nnew line\n\n", "don't we'll I'm", "<unk> [UNK] </s>", "\u00a0\u3000\u2028\u2029\u0085"};

    private final SplittableRandom rnd;
    private final Mutations mutations;
    private final boolean huge;

    /** {@code huge}: now and then (1 in 40) a 20k-100k character input. */
    HostileText(Mutations m, boolean huge) {
        this.mutations = m;
        this.rnd = m.random();
        this.huge = huge;
    }

    /** A hostile text; {@code specials} are literals of the tokenizer's added tokens (may be empty). */
    String next(List<String> specials) {
        StringBuilder sb = new StringBuilder();
        int pieces = 1 + rnd.nextInt(8);
        for (int p = 0; p < pieces; p++) sb.append(piece(specials));
        if (huge && rnd.nextInt(40) == 0) {
            String unit = sb.isEmpty() ? "a" : sb.toString();
            int times = Math.max(1, (20_000 + rnd.nextInt(80_000)) / unit.length());
            return unit.repeat(times);
        }
        return sb.length() > 4000 ? sb.substring(0, 4000) : sb.toString();
    }

    private String piece(List<String> specials) {
        return switch (rnd.nextInt(13)) {
            case 0 -> {
                byte[] b = new byte[1 + rnd.nextInt(64)];
                for (int i = 0; i < b.length; i++) b[i] = (byte) rnd.nextInt(256);
                yield new String(b, StandardCharsets.UTF_8); // invalid UTF-8 becomes U+FFFD, as the CLI reads stdin
            }
            case 1 -> String.valueOf((char) (0xD800 + rnd.nextInt(0x800))); // lone surrogate
            case 2 -> {
                StringBuilder s = new StringBuilder();
                for (int i = rnd.nextInt(1, 20); i > 0; i--) {
                    int c = rnd.nextInt(4) == 0 ? "\u007f\u0085\u200b\ufeff\ufffd\u2028".charAt(rnd.nextInt(6)) : rnd.nextInt(0x20);
                    s.append((char) c);
                }
                yield s.toString();
            }
            case 3 -> "e" + "\u0301".repeat(rnd.nextInt(1, 300));
            case 4 -> new String(Character.toChars(0x10000 + rnd.nextInt(0x100000 - 0x10000)));
            case 5 -> " \t\r\n\u00a0\u3000".substring(rnd.nextInt(6)).repeat(rnd.nextInt(1, 200));
            case 6 -> "1234567890".repeat(rnd.nextInt(1, 50));
            case 7 -> specials.isEmpty() ? "<s>" : specials.get(rnd.nextInt(specials.size())) + (rnd.nextBoolean() ? "x" : "");
            case 8 -> {
                String t = mutations.text(SAMPLES[rnd.nextInt(SAMPLES.length)]);
                yield huge || t.length() < 4000 ? t : t.substring(t.length() - 4000);
            }
            case 9 -> {
                StringBuilder s = new StringBuilder();
                for (int i = rnd.nextInt(1, 40); i > 0; i--) {
                    int cp = rnd.nextInt(0x30000);
                    if (Character.isValidCodePoint(cp)) s.appendCodePoint(cp);
                }
                yield s.toString();
            }
            case 10 -> "\u0000".repeat(rnd.nextInt(1, 10));
            case 11 -> "'s'T'RE've'LL " + "a".repeat(rnd.nextInt(1, 100));
            default -> SAMPLES[rnd.nextInt(SAMPLES.length)];
        };
    }
}
