package dev.cortado.server;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The server's Prometheus metrics, written by hand in the text exposition format (version 0.0.4): counters by
 * label set, and histograms of seconds with fixed buckets. Gauges (queue depth, KV blocks) are read when scraped.
 */
final class Metrics {
    static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

    /** A histogram of seconds. */
    static final class Histogram {
        private final AtomicLongArray counts = new AtomicLongArray(BUCKETS.length + 1);
        private final DoubleAdder sum = new DoubleAdder();

        void observe(double seconds) {
            int i = 0;
            while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
            counts.incrementAndGet(i);
            sum.add(seconds);
        }

        void write(StringBuilder out, String name, String labels) {
            long cumulative = 0;
            String sep = labels.isEmpty() ? "" : labels + ",";
            for (int i = 0; i < BUCKETS.length; i++) {
                cumulative += counts.get(i);
                out.append(name).append("_bucket{").append(sep).append("le=\"").append(BUCKETS[i]).append("\"} ")
                        .append(cumulative).append('\n');
            }
            cumulative += counts.get(BUCKETS.length);
            out.append(name).append("_bucket{").append(sep).append("le=\"+Inf\"} ").append(cumulative).append('\n');
            out.append(name).append("_sum{").append(labels).append("} ").append(sum.sum()).append('\n');
            out.append(name).append("_count{").append(labels).append("} ").append(cumulative).append('\n');
        }
    }

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> promptTokens = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> completionTokens = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> cancelled = new ConcurrentHashMap<>();
    private final Map<String, Histogram> ttft = new ConcurrentHashMap<>();
    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();

    /** One finished request: its endpoint, HTTP status and (for successes) its tokens and timings. */
    void request(String model, String endpoint, int status) {
        requests.computeIfAbsent(labels("model", model, "endpoint", endpoint, "status", Integer.toString(status)),
                k -> new LongAdder()).increment();
    }

    void tokens(String model, int prompt, int completion) {
        promptTokens.computeIfAbsent(labels("model", model), k -> new LongAdder()).add(prompt);
        completionTokens.computeIfAbsent(labels("model", model), k -> new LongAdder()).add(completion);
    }

    void cancelled(String model) {
        cancelled.computeIfAbsent(labels("model", model), k -> new LongAdder()).increment();
    }

    void timeToFirstToken(String model, String endpoint, double seconds) {
        ttft.computeIfAbsent(labels("model", model, "endpoint", endpoint), k -> new Histogram()).observe(seconds);
    }

    void latency(String model, String endpoint, double seconds) {
        latency.computeIfAbsent(labels("model", model, "endpoint", endpoint), k -> new Histogram()).observe(seconds);
    }

    /** The exposition text; {@code gauges} appends the gauges read now. */
    String render(Consumer<StringBuilder> gauges) {
        StringBuilder out = new StringBuilder(4096);
        counter(out, "cortado_requests_total", "HTTP requests by model, endpoint and status", requests);
        counter(out, "cortado_prompt_tokens_total", "prompt tokens of successful requests", promptTokens);
        counter(out, "cortado_completion_tokens_total", "generated tokens of successful requests", completionTokens);
        counter(out, "cortado_requests_cancelled_total", "requests cancelled because the client went away", cancelled);
        histograms(out, "cortado_time_to_first_token_seconds", "time from request received to first generated token", ttft);
        histograms(out, "cortado_request_duration_seconds", "time from request received to last byte sent", latency);
        gauges.accept(out);
        return out.toString();
    }

    static void gauge(StringBuilder out, String name, String help, Map<String, ? extends Number> byLabels) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        for (var e : new TreeMap<>(byLabels).entrySet())
            out.append(name).append('{').append(e.getKey()).append("} ").append(e.getValue()).append('\n');
    }

    private static void counter(StringBuilder out, String name, String help, Map<String, LongAdder> m) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        for (var e : new TreeMap<>(m).entrySet())
            out.append(name).append('{').append(e.getKey()).append("} ").append(e.getValue().sum()).append('\n');
    }

    private static void histograms(StringBuilder out, String name, String help, Map<String, Histogram> m) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" histogram\n");
        for (var e : new TreeMap<>(m).entrySet()) e.getValue().write(out, name, e.getKey());
    }

    /** {@code k1="v1",k2="v2"} with values escaped as the format asks. */
    static String labels(String... kv) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < kv.length; i += 2) {
            if (i > 0) b.append(',');
            b.append(kv[i]).append("=\"").append(kv[i + 1].replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n"))
                    .append('"');
        }
        return b.toString();
    }
}
