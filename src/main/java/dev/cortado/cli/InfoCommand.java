package dev.cortado.cli;

import dev.cortado.CortadoException;
import dev.cortado.engine.DefaultModels;
import dev.cortado.engine.Embedders;
import dev.cortado.onnx.OnnxModel;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cortado info}: what a model is (family, dims, layers, opset, parameters, dtype). */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Describe a model (default: the embedding model).")
public final class InfoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", description = "a .onnx file or a model folder")
    Path model;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N]")
    String device;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (!device.equals("cpu")) {
            out.println(DeviceInfo.describe(device));
            return 0;
        }
        Path onnx = Embedders.resolveOnnx(model != null ? model : DefaultModels.minilm());
        try (OnnxModel m = OnnxModel.open(onnx)) {
            long params = 0;
            Map<DType, Long> byType = new TreeMap<>();
            for (Tensor t : m.graph().initializers().values()) {
                if (!t.dtype().isFloat() && t.dtype() != DType.I8 && t.dtype() != DType.U8) continue;
                params += t.numel();
                byType.merge(t.dtype(), t.numel(), Long::sum);
            }
            out.println("file:       " + onnx);
            out.println("producer:   " + m.producerName() + " (IR " + m.irVersion() + ", opset " + m.opsetImports() + ")");
            out.println("inputs:     " + m.graph().inputNames());
            out.println("outputs:    " + m.graph().outputNames());
            out.println("parameters: " + String.format("%,d", params) + " " + byType);
            out.println("nodes:      " + m.graph().nodes().size());
            try (var runner = Embedders.openCortado(onnx, new dev.cortado.backend.cpu.CpuBackend())) {
                out.println("family:     " + runner.describe());
            } catch (CortadoException e) {
                out.println("family:     not recognized by Cortado's engine (" + e.getMessage() + "); runs with --engine ort");
            }
        }
        out.flush();
        return 0;
    }
}
