package dev.cortado.spark;

import dev.cortado.api.OpenAiService;
import dev.cortado.api.ServedModel;
import dev.cortado.cli.BatchCommand;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The executor-side singleton: ONE model and its serving engine per executor JVM per {@link ModelSpec}, opened on
 * first use by whichever task needs it first, shared by every task and partition that runs in this JVM afterwards
 * (concurrent tasks feed the same engine, which batches their rows together), and closed by a JVM shutdown hook.
 * Models are opened exactly as {@code cortado batch} opens them ({@link BatchCommand#open}), and served through
 * the same {@link OpenAiService}, so a row's result is the line {@code batch} writes for it.
 */
public final class ExecutorModels {
    private record Entry(ServedModel model, OpenAiService service) {}

    private static final Map<String, Entry> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> OPENED = new ConcurrentHashMap<>();
    private static final AtomicInteger TOTAL = new AtomicInteger();
    private static volatile boolean hooked;

    private ExecutorModels() {}

    /** The service of {@code spec} in this JVM, opening the model the first time (other callers wait for it). */
    public static OpenAiService service(ModelSpec spec) {
        return MODELS.computeIfAbsent(spec.key(), k -> open(spec)).service();
    }

    private static Entry open(ModelSpec spec) {
        hook();
        ServedModel m = BatchCommand.open(spec.localPath(), device(spec.device()), spec.dtype(), spec.kvMemory());
        OPENED.computeIfAbsent(spec.key(), k -> new AtomicInteger()).incrementAndGet();
        TOTAL.incrementAndGet();
        return new Entry(m, new OpenAiService(m));
    }

    /**
     * {@code cuda} without an index on an executor that Spark gave a GPU ({@code spark.executor.resource.gpu.amount},
     * found by the worker's discovery script): that GPU, {@code cuda:ADDRESS}. Anything else as given.
     */
    static String device(String device) {
        if (!device.equals("cuda")) return device;
        org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
        if (task == null) return device;
        var gpu = task.resources().get("gpu");
        if (gpu.isEmpty() || gpu.get().addresses().length == 0) return device;
        return "cuda:" + gpu.get().addresses()[0];
    }

    /** How many times this JVM has opened {@code spec}'s model (1 after any number of tasks: the test's count). */
    public static int opened(ModelSpec spec) {
        AtomicInteger n = OPENED.get(spec.key());
        return n == null ? 0 : n.get();
    }

    /** Models opened in this JVM, all specs together. */
    public static int openedTotal() {
        return TOTAL.get();
    }

    private static synchronized void hook() {
        if (hooked) return;
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("cortado-spark-close").unstarted(ExecutorModels::closeAll));
        hooked = true;
    }

    /** Closes every model of this JVM (the shutdown hook; a later call opens them anew). */
    static void closeAll() {
        for (var it = MODELS.entrySet().iterator(); it.hasNext(); ) {
            Entry e = it.next().getValue();
            it.remove();
            try {
                e.model().close();
            } catch (RuntimeException ignored) {
                // closing at JVM exit: nothing left to tell
            }
        }
    }
}
