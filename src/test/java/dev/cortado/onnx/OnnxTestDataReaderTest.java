package dev.cortado.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.cortado.CortadoException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The reader against ONNX's own conformance data (written by the ONNX authors; Debian/Ubuntu package
 * {@code libonnx-testdata}, 1,072 models with their input/output tensors, which {@code .ci/run} installs when it can;
 * or {@code CORTADO_ONNX_TESTDATA} = a folder of {@code <case>/model.onnx} + {@code test_data_set_0/*.pb}).
 * Every model opens or fails with a CortadoException; the inputs a caller feeds ({@link Graph#runtimeInputs()}) are
 * exactly the tensors the test data feeds, in order, with their element types and static dims; the outputs likewise;
 * and for every model ONNX Runtime opens, the runtime inputs are the names ONNX Runtime Java lists for the same file.
 */
class OnnxTestDataReaderTest {
    private static final Path DEFAULT = Path.of("/usr/share/libonnx-testdata/data");

    static List<Path> models() throws IOException {
        String env = System.getenv("CORTADO_ONNX_TESTDATA");
        Path root = env != null ? Path.of(env) : DEFAULT;
        Assumptions.assumeTrue(Files.isDirectory(root), "ONNX test data not found at " + root
                + " (apt-get install libonnx-testdata, or set CORTADO_ONNX_TESTDATA)");
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.getFileName().toString().equals("model.onnx")).sorted().toList();
        }
    }

    @Test
    void everyModelsInputsAndOutputsAreWhatItsTestDataFeedsAndExpects() throws IOException {
        List<Path> models = models();
        List<String> refused = new ArrayList<>(), mismatches = new ArrayList<>();
        int checkedValues = 0, irBacked = 0;
        for (Path file : models) {
            Path data = file.resolveSibling("test_data_set_0");
            try (OnnxModel m = OnnxModel.open(file)) {
                Graph g = m.graph();
                if (g.runtimeInputs().size() != g.inputs().size()) irBacked++;
                // ONNX 1.12's bfloat16 cast cases store their bfloat16 tensors as UINT16 data (and CastLike's "like"
                // with another shape): a quirk of that test data, not of the graphs
                if (!Files.isDirectory(data) || file.getParent().getFileName().toString().contains("BFLOAT16")) continue;
                checkedValues += compare(g.runtimeInputs(), data, "input", file, mismatches);
                checkedValues += compare(g.outputs(), data, "output", file, mismatches);
            } catch (CortadoException e) {
                assertTrue(!e.getMessage().isBlank() && !e.getMessage().contains("\n"), "one line: " + e.getMessage());
                refused.add(file.getParent().getFileName() + ": " + e.getMessage());
            }
        }
        System.out.printf("ONNX test data: %d models, %d refused with a clear line, %d values compared, %d with "
                + "initializer-backed graph inputs%n", models.size(), refused.size(), checkedValues, irBacked);
        refused.forEach(r -> System.out.println("  refused " + r));
        assertTrue(mismatches.isEmpty(), mismatches.size() + " mismatches, first: " + mismatches.stream().limit(10).toList());
        assertTrue(checkedValues > 1000, "compared only " + checkedValues + " values");
        assertTrue(irBacked > 0, "expected some IR-3 models whose initializers are listed as graph inputs");
        assertTrue(refused.size() * 20 < models.size(), "refused " + refused.size() + ": " + refused);
    }

    /** Compares graph values with {@code <what>_<i>.pb}; returns how many were compared. */
    private static int compare(List<ValueInfo> values, Path data, String what, Path file, List<String> mismatches) {
        int n = 0;
        while (Files.isRegularFile(data.resolve(what + "_" + n + ".pb"))) n++;
        String where = file.getParent().getFileName() + " " + what;
        if (n != values.size()) {
            mismatches.add(where + "s: graph lists " + values.size() + " " + values + ", test data has " + n);
            return 0;
        }
        int compared = 0;
        for (int i = 0; i < n; i++) {
            ValueInfo v = values.get(i);
            if (v.onnxElemType() == 0) continue; // a sequence, map or optional: its .pb is not a TensorProto
            TensorFile t = TensorFile.read(data.resolve(what + "_" + i + ".pb"));
            if (!t.name().isEmpty() && !t.name().equals(v.name())) mismatches.add(where + " " + i + ": name " + t.name() + " vs " + v.name());
            if (t.onnxType() != v.onnxElemType()) mismatches.add(where + " " + v.name() + ": type " + t.onnxType() + " vs " + v.onnxElemType());
            if (v.rankKnown()) {
                if (t.dims().length != v.dims().size()) {
                    mismatches.add(where + " " + v.name() + ": rank " + t.dims().length + " vs " + v.dims());
                } else {
                    for (int d = 0; d < t.dims().length; d++) {
                        long want = v.dimValue(d);
                        if (want >= 0 && want != t.dims()[d]) mismatches.add(where + " " + v.name() + ": dims " + java.util.Arrays.toString(t.dims()) + " vs " + v.dims());
                    }
                }
            }
            if (t.tensor() != null) assertEquals(t.tensor().numel(), numel(t.dims()), where + " " + v.name());
            compared++;
        }
        return compared;
    }

    private static long numel(long[] dims) {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    @Test
    void runtimeInputsAreWhatOnnxRuntimeLists() throws IOException, OrtException {
        List<Path> models = models();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int compared = 0, irBacked = 0;
        List<String> mismatches = new ArrayList<>();
        for (Path file : models) {
            List<String> ort;
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                o.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
                try (OrtSession s = env.createSession(file.toString(), o)) {
                    ort = List.copyOf(s.getInputNames());
                }
            } catch (OrtException e) {
                continue; // an op or type this ORT build does not run: nothing to compare with
            }
            try (OnnxModel m = OnnxModel.open(file)) {
                if (m.graph().runtimeInputs().size() != m.graph().inputs().size()) irBacked++;
                if (!ort.equals(m.graph().runtimeInputNames())) mismatches.add(file.getParent().getFileName() + ": ORT " + ort + " vs " + m.graph().runtimeInputNames());
                compared++;
            } catch (CortadoException e) {
                // refusals are counted by the test above
            }
        }
        System.out.printf("ONNX Runtime comparison: %d models, %d with initializer-backed inputs%n", compared, irBacked);
        assertTrue(compared > 800, "compared only " + compared);
        assertTrue(mismatches.isEmpty(), mismatches.toString());
    }
}
