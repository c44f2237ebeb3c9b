package dev.cortado.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Cross-checks a parsed model against what ONNX Runtime Java reports for the same file. */
final class OrtCheck {
    /** TensorProto.DataType names by code, from onnx.proto. */
    static final String[] DATA_TYPES = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
        "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};

    private OrtCheck() {}

    static void assertAgrees(OnnxModel m, Path file) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(file.toString(), opts)) {
            Graph g = m.graph();
            // IR < 4 files may list initializers as inputs; ORT reports only the real ones
            List<ValueInfo> inputs = g.runtimeInputs();
            assertValues(session.getInputInfo(), inputs, "input");
            assertValues(session.getOutputInfo(), g.outputs(), "output");
            assertEquals(session.getMetadata().getProducerName(), m.producerName());
            assertEquals(session.getMetadata().getGraphName(), g.name());
            assertEquals(session.getMetadata().getDomain(), m.domain());
            long ortVersion = session.getMetadata().getVersion(); // ORT reports INT64_MAX when model_version is unset
            assertEquals(ortVersion == Long.MAX_VALUE ? 0 : ortVersion, m.modelVersion());
            assertEquals(session.getMetadata().getCustomMetadata(), m.metadata());
        }
    }

    private static void assertValues(Map<String, NodeInfo> ort, List<ValueInfo> mine, String what) {
        assertEquals(List.copyOf(ort.keySet()), mine.stream().map(ValueInfo::name).toList(), what + " names");
        for (ValueInfo v : mine) {
            assertTrue(ort.get(v.name()).getInfo() instanceof TensorInfo, v.name());
            TensorInfo t = (TensorInfo) ort.get(v.name()).getInfo();
            // ORT Java numbers its enum differently from TensorProto.DataType, so compare by name
            assertEquals(t.onnxType.name(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_" + DATA_TYPES[v.onnxElemType()],
                    v.name() + " element type");
            assertEquals(v.onnxElemType(), v.elemType().onnxCode(), v.name() + " element type");
            long[] shape = t.getShape();
            String[] names = t.getDimensionNames();
            assertEquals(shape.length, v.dims().size(), v.name() + " rank");
            for (int i = 0; i < shape.length; i++) {
                Object d = v.dims().get(i);
                if (d instanceof Long l) {
                    assertEquals(shape[i], l, v.name() + " dim " + i);
                } else {
                    assertEquals(-1, shape[i], v.name() + " dim " + i);
                    assertEquals(names[i].isEmpty() ? "?" : names[i], d, v.name() + " dim " + i + " name");
                }
            }
        }
    }
}
