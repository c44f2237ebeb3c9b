package dev.cortado.api;

import dev.cortado.CortadoException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;

/**
 * Runs an OpenAI Batch input file against an {@link OpenAiService}: every line is submitted (at most
 * {@code maxInFlight} at once, so memory stays flat on big files; decoders batch them continuously), each result
 * is appended to the output as one whole line as soon as it finishes, and a bad line becomes an error line while
 * the job goes on.
 *
 * <p><b>Resumable</b>: lines whose custom_id is already in the output are skipped, so rerunning a killed job with
 * the same output finishes it without losing or duplicating a result; a last line cut short by the kill is
 * removed first. A custom_id used twice in the input is an error for the later lines, written under
 * {@code line-N} (its line number) so that every custom_id in the output stays unique.
 */
public final class BatchJob {
    /** Counts of one run: input requests, skipped (already in the output), written results and errors. */
    public record Summary(int total, int skipped, int succeeded, int failed, long completionTokens) {}

    /** Called after each written line (under the writer's lock): lines done so far and generated tokens. */
    public interface Listener {
        void written(int done, int total, long tokens);
    }

    private final OpenAiService service;
    private final int maxInFlight;
    private final Listener listener;

    public BatchJob(OpenAiService service, int maxInFlight, Listener listener) {
        if (maxInFlight < 1) throw new CortadoException("--max-concurrent must be ≥ 1, got " + maxInFlight);
        this.service = service;
        this.maxInFlight = maxInFlight;
        this.listener = listener == null ? (d, t, k) -> {} : listener;
    }

    public Summary run(Path input, Path output) throws IOException {
        if (!Files.isRegularFile(input)) throw new CortadoException("input file not found: " + input);
        if (Files.exists(output) && Files.isSameFile(input, output))
            throw new CortadoException("--output is the input file " + input + "; write the results elsewhere");
        Set<String> done = resume(output);
        int total = countLines(input);
        Writer w = new Writer(output, total, listener);
        Semaphore slots = new Semaphore(maxInFlight);
        Map<String, Integer> seen = new HashMap<>();
        int skipped = 0;
        try (w; InputStream in = new BufferedInputStream(Files.newInputStream(input), 1 << 16)) {
            int lineNo = 0;
            for (byte[] raw; (raw = readLine(in)) != null; ) {
                lineNo++;
                String text;
                try {
                    text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
                } catch (CharacterCodingException e) {
                    text = null;
                }
                if (text != null && text.isBlank()) continue;
                String key = "line-" + lineNo;
                BatchOutput early = null;
                BatchInput req = null;
                if (text == null) {
                    early = BatchOutput.failure(key, "invalid_json", "line " + lineNo + " is not valid UTF-8; save the file as UTF-8");
                } else {
                    try {
                        req = BatchInput.parse(text, lineNo);
                        Integer first = seen.putIfAbsent(req.customId(), lineNo);
                        if (first == null) key = req.customId();
                        else early = BatchOutput.failure(key, "duplicate_custom_id", "duplicate custom_id '" + req.customId()
                                + "': already used on line " + first + "; give each request its own custom_id");
                    } catch (ApiException e) {
                        early = BatchOutput.failure(key, e.code(), e.getMessage());
                    }
                }
                if (done.contains(key)) {
                    skipped++;
                    w.skipped();
                    continue;
                }
                if (early != null) {
                    w.write(early);
                    continue;
                }
                slots.acquireUninterruptibly();
                BatchInput r = req;
                service.batchLine(r).whenComplete((out, e) -> {
                    try {
                        w.write(out != null ? out : OpenAiService.failure(r.key(), e));
                    } finally {
                        slots.release();
                    }
                });
            }
            slots.acquireUninterruptibly(maxInFlight);
        }
        if (w.error != null) throw new CortadoException("cannot write " + output + ": " + w.error.getMessage(), w.error);
        return new Summary(total, skipped, w.succeeded, w.failed, w.tokens);
    }

    /**
     * The custom_ids already in {@code output}; a last line without its newline (a killed writer) is cut off, and
     * lines that are not output lines are ignored. (Also {@code batch --spark}'s.)
     */
    public static Set<String> resume(Path output) throws IOException {
        Set<String> ids = new HashSet<>();
        if (!Files.exists(output)) return ids;
        try (FileChannel ch = FileChannel.open(output, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size(), keep = size;
            ByteBuffer one = ByteBuffer.allocate(1);
            while (keep > 0) {
                one.clear();
                ch.read(one, keep - 1);
                if (one.get(0) == '\n') break;
                keep--;
            }
            if (keep < size) ch.truncate(keep);
        }
        try (var lines = Files.lines(output, StandardCharsets.UTF_8)) {
            lines.forEach(l -> {
                try {
                    var n = ApiJson.MAPPER.readTree(l);
                    if (n != null && n.path("custom_id").isTextual()) ids.add(n.get("custom_id").textValue());
                } catch (IOException e) {
                    // not an output line: ignored (it will not match a request)
                }
            });
        }
        return ids;
    }

    private static int countLines(Path input) throws IOException {
        int n = 0;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(input), 1 << 16)) {
            for (byte[] raw; (raw = readLine(in)) != null; ) {
                boolean blank = true;
                for (byte b : raw) if (b != ' ' && b != '\t' && b != '\r') { blank = false; break; }
                if (!blank) n++;
            }
        }
        return n;
    }

    /** The next line's bytes without its "\n" (a trailing "\r" stays: JSON ignores it), or null at the end. */
    private static byte[] readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(256);
        int c;
        while ((c = in.read()) != -1 && c != '\n') b.write(c);
        if (c == -1 && b.size() == 0) return null;
        return b.toByteArray();
    }

    /** Appends whole lines, one write each, and counts them. */
    private static final class Writer implements AutoCloseable {
        private final FileChannel ch;
        private final int total;
        private final Listener listener;
        private int done, succeeded, failed;
        private long tokens;
        private IOException error;

        Writer(Path output, int total, Listener listener) throws IOException {
            this.ch = FileChannel.open(output, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            this.total = total;
            this.listener = listener;
        }

        synchronized void skipped() {
            done++;
            listener.written(done, total, tokens);
        }

        synchronized void write(BatchOutput o) {
            if (error != null) return;
            ByteBuffer buf = ByteBuffer.wrap((ApiJson.write(o) + "\n").getBytes(StandardCharsets.UTF_8));
            try {
                while (buf.hasRemaining()) ch.write(buf);
            } catch (IOException e) {
                error = e;
                return;
            }
            done++;
            if (o.error() != null) failed++;
            else {
                succeeded++;
                tokens += OpenAiService.completionTokens(o.response().body());
            }
            listener.written(done, total, tokens);
        }

        @Override
        public synchronized void close() throws IOException {
            ch.close();
        }
    }
}
