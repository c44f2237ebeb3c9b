package dev.cortado.cli;

import static dev.cortado.cli.CliErrorsTest.assertOneLineError;
import static dev.cortado.cli.CliErrorsTest.run;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code batch --spark} without the cortado-spark module and Spark on the class path (the library's own test class
 * path has neither): one line saying how to get them; the Spark-only options need --spark. The job itself is tested
 * in the spark module (SparkBatchTest).
 */
class BatchSparkHandoffTest {
    @TempDir Path tmp;

    @Test
    void withoutTheSparkModuleOneLineSaysWhatToDo() throws Exception {
        Path in = Files.writeString(tmp.resolve("in.jsonl"), "{}\n");
        assertOneLineError(run("batch", "--spark", "local[1]", "--model", tmp.toString(), "--input", in.toString(),
                "--output", tmp.resolve("out.jsonl").toString()), "run it through ./cortado");
        assertOneLineError(run("batch", "--partitions", "3", "--model", tmp.toString(), "--input", in.toString(),
                "--output", tmp.resolve("out.jsonl").toString()), "need --spark");
    }
}
