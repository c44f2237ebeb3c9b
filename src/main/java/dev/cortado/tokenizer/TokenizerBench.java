package dev.cortado.tokenizer;

import dev.cortado.SharedPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tokenizer throughput (not a test): encodes ~1 MB of English (Debian package descriptions) with byte-level BPE
 * (gpt2), Unigram (t5-small) and others, single thread, and prints tokens/s and MB/s.
 * Usage: {@code TokenizerBench [shared dir] [MB]}.
 */
public final class TokenizerBench {
    public static void main(String[] args) throws IOException {
        Path shared = args.length > 0 ? Path.of(args[0]) : SharedPaths.root();
        if (shared == null) throw new IllegalStateException("shared folder not found");
        double mb = args.length > 1 ? Double.parseDouble(args[1]) : 1.0;
        List<String> texts = texts(shared.resolve("data/debian-descriptions/summarize/train.tsv"), (long) (mb * 1e6));
        long bytes = texts.stream().mapToLong(s -> s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).sum();
        System.out.printf("corpus: %d texts, %.2f MB%n", texts.size(), bytes / 1e6);
        for (String name : new String[] {"gpt2", "t5-small", "bert-base-uncased", "qwen3", "tinyllama-1.1b-chat-v1.0"}) {
            Tokenizer tok = Tokenizer.fromFile(shared.resolve("models/tokenizers/" + name + "/tokenizer.json"));
            for (int round = 0; round < 3; round++) run(tok, texts, bytes, name, round < 2);
        }
    }

    private static void run(Tokenizer tok, List<String> texts, long bytes, String name, boolean warmup) {
        long t0 = System.nanoTime();
        long tokens = 0;
        for (String t : texts) tokens += tok.encode(t, false).length();
        double s = (System.nanoTime() - t0) / 1e9;
        if (!warmup) System.out.printf("%-26s %9d tokens %7.3f s %11.0f tokens/s %6.2f MB/s%n", name, tokens, s,
                tokens / s, bytes / 1e6 / s);
    }

    /** The description column (the 2nd of 2, or the last) of the TSV, up to {@code maxBytes}. */
    static List<String> texts(Path tsv, long maxBytes) throws IOException {
        List<String> out = new ArrayList<>();
        long n = 0;
        List<String> lines = Files.readAllLines(tsv);
        for (String line : lines.subList(1, lines.size())) { // skip the header
            String[] cols = line.split("\t");
            String d = cols[0].length() > cols[cols.length - 1].length() ? cols[0] : cols[cols.length - 1];
            d = d.replace("\\n", "\n");
            out.add(d);
            n += d.length();
            if (n >= maxBytes) break;
        }
        return out;
    }
}
