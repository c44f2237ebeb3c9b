package dev.cortado.langchain4j;

import dev.cortado.CortadoException;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.scoring.ScoringModel;
import java.util.ArrayList;
import java.util.List;

/**
 * A LangChain4j {@link ScoringModel} (for {@code ReRankingContentAggregator}) that scores each segment by the cosine
 * similarity of its embedding with the query's (sentence-transformers' {@code util.cos_sim}), with a
 * {@link CortadoEmbeddingModel}: a bi-encoder score in [-1, 1], not a cross-encoder's relevance (Cortado has no
 * sequence-classification head yet). The query and the segments are embedded in one {@code embedAll} call.
 *
 * <pre>{@code
 * try (CortadoScoringModel scorer = CortadoScoringModel.builder().build()) {   // all-MiniLM-L6-v2
 *     double s = scorer.score("A man is eating food.", "Someone eats").content();
 * }
 * }</pre>
 */
public final class CortadoScoringModel implements ScoringModel, AutoCloseable {
    private final CortadoEmbeddingModel embedder;
    private final boolean owns;

    private CortadoScoringModel(CortadoEmbeddingModel embedder, boolean owns) {
        this.embedder = embedder;
        this.owns = owns;
    }

    /** Scores with {@code embedder} (which stays open when this closes). */
    public static CortadoScoringModel of(CortadoEmbeddingModel embedder) {
        if (embedder == null) throw new CortadoException("CortadoScoringModel.of: the embedding model is null");
        return new CortadoScoringModel(embedder, false);
    }

    /** Its own embedding model: the builder takes {@link CortadoEmbeddingModel}'s options. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Response<List<Double>> scoreAll(List<TextSegment> segments, String query) {
        if (query == null) throw new CortadoException("scoreAll: the query is null; pass the text to score the segments against");
        if (segments == null || segments.isEmpty()) return Response.from(List.of());
        List<TextSegment> all = new ArrayList<>(segments.size() + 1);
        all.add(TextSegment.from(query));
        all.addAll(segments);
        Response<List<Embedding>> r = embedder.embedAll(all);
        float[] q = r.content().getFirst().vector();
        List<Double> scores = new ArrayList<>(segments.size());
        for (int i = 1; i < r.content().size(); i++)
            scores.add(dev.cortado.engine.EmbeddingModel.cosine(q, r.content().get(i).vector()));
        return Response.from(scores, r.tokenUsage());
    }

    @Override
    public void close() {
        if (owns) embedder.close();
    }

    public static final class Builder {
        private final CortadoEmbeddingModel.Builder embedding = CortadoEmbeddingModel.builder();

        private Builder() {}

        /** The embedding model folder; unset: all-MiniLM-L6-v2 from its jar. */
        public Builder modelPath(java.nio.file.Path modelPath) {
            embedding.modelPath(modelPath);
            return this;
        }

        public Builder batchSize(int batchSize) {
            embedding.batchSize(batchSize);
            return this;
        }

        public CortadoScoringModel build() {
            return new CortadoScoringModel(embedding.build(), true);
        }
    }
}
