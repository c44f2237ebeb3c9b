package dev.cortado.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Every tensor type Cortado reads, converted from a GGUF written by gguf-py, equals gguf-py's own
 * {@code gguf.quants.dequantize} bit for bit (src/test/resources/gguf/types.*, made by models/fixtures/gguf/build_gguf.py).
 */
class GgufDequantTest {
    static final Path DIR = Path.of("src/test/resources/gguf");

    @Test
    void everyTypeEqualsGgufPyDequantizeBitExactly() throws Exception {
        JsonNode index = new ObjectMapper().readTree(DIR.resolve("types.json").toFile());
        ByteBuffer gold = ByteBuffer.wrap(Files.readAllBytes(DIR.resolve("types.f32"))).order(ByteOrder.LITTLE_ENDIAN);
        int checked = 0;
        try (GgufFile f = GgufFile.open(DIR.resolve("types.gguf")); Arena arena = Arena.ofConfined()) {
            for (JsonNode t : index.get("tensors")) {
                GgufFile.TensorInfo info = f.tensor(t.get("name").asText());
                assertEquals(t.get("type").asText(), info.type().name());
                int rows = t.get("rows").asInt(), cols = t.get("cols").asInt();
                assertEquals(rows, info.rows());
                assertEquals(cols, info.cols());
                QuantizedMatrix q = GgufTensors.isQuantized(info.type()) ? GgufTensors.quantized(info, arena) : null;
                Tensor x = q == null ? GgufTensors.tensor(info, arena) : null;
                int bad = 0;
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        float want = gold.getFloat();
                        float got = q != null ? q.get(r, c) : x.getFloat((long) r * cols + c);
                        if (!(got == want)) bad++;  // == : +0 and −0 are the same value
                    }
                }
                assertEquals(0, bad, info.type() + ": values differing from gguf-py's dequantize");
                if (q != null) {
                    Tensor deq = GgufTensors.tensor(info, arena);
                    assertEquals(q.get(rows - 1, cols - 1), deq.getFloat((long) rows * cols - 1));
                }
                checked++;
            }
        }
        assertEquals(9, checked);
        assertTrue(!gold.hasRemaining());
    }
}
