package dev.cortado.spark;

import dev.cortado.CortadoException;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** The SparkSession {@code batch --spark} makes, and its failures as one line. */
final class Sessions {
    private Sessions() {}

    /**
     * A session for {@code master}. A local master gets a driver bound to loopback and no web UI (a local job needs
     * no network); other masters keep Spark's defaults. Executors of a cluster get Cortado's jars from
     * {@code -Dcortado.spark.jars} (the launcher sets it) unless {@code spark.jars} is given. Spark logs warnings
     * and errors only unless {@code spark.log.level} says otherwise.
     */
    static SparkSession create(String master, Map<String, String> conf) {
        if (master == null || master.isBlank()) throw new CortadoException("--spark needs a master: local[N], spark://HOST:7077, yarn or k8s://…");
        SparkSession.Builder b = SparkSession.builder().appName("cortado batch").master(master);
        boolean local = master.startsWith("local");
        if (local) {
            b.config("spark.ui.enabled", "false").config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1");
        } else {
            String jars = System.getProperty("cortado.spark.jars");
            if (jars != null && !jars.isBlank()) b.config("spark.jars", jars);
        }
        b.config("spark.log.level", "WARN");
        if (conf != null) conf.forEach(b::config);
        try {
            return b.getOrCreate();
        } catch (RuntimeException e) {
            throw oneLine(e);
        }
    }

    /**
     * A Spark failure as Cortado's one line: the CortadoException that caused it (e.g. a model no executor could
     * open), or the root cause's message.
     */
    static RuntimeException oneLine(Exception e) {
        if (e instanceof CortadoException c) return c;
        Throwable root = e;
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof CortadoException ce) return new CortadoException(ce.getMessage(), e);
            root = c;
        }
        String marker = CortadoException.class.getName() + ": ";
        for (Throwable c = e; c != null; c = c.getCause()) {  // a task's exception, as text in the stage failure
            String m = c.getMessage();
            int at = m == null ? -1 : m.indexOf(marker);
            if (at >= 0) return new CortadoException(m.substring(at + marker.length()).lines().findFirst().orElse("").strip(), e);
        }
        String msg = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage().strip().lines().findFirst().orElse("");
        return new CortadoException("Spark job failed: " + msg, e);
    }
}
