package dev.cortado.tokenizer.processors;

import dev.cortado.tokenizer.Json;
import dev.cortado.tokenizer.TokenBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Builds post-processors: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence. */
public final class PostProcessors {
    private PostProcessors() {}

    /** One piece of a template: a special token's ids/tokens, or the sequence itself (tokens == null). */
    record Piece(int[] ids, String[] tokens, int typeId) {}

    record Template(List<Piece> pieces) implements PostProcessor {
        @Override
        public TokenBuffer addSpecialTokens(TokenBuffer seq) {
            TokenBuffer out = new TokenBuffer();
            for (Piece p : pieces) {
                if (p.tokens == null) {
                    for (int i = 0; i < seq.size(); i++) out.add(seq.id(i), seq.token(i), p.typeId);
                } else {
                    for (int i = 0; i < p.ids.length; i++) out.add(p.ids[i], p.tokens[i], p.typeId);
                }
            }
            return out;
        }

        @Override
        public int addedTokens() {
            int n = 0;
            for (Piece p : pieces) if (p.tokens != null) n += p.ids.length;
            return n;
        }
    }

    /** {@code idLimit}: the ids of the special tokens must be below it (the vocab size, added tokens included). */
    public static PostProcessor fromJson(Json j, int idLimit) {
        String type = j.type();
        if (type == null) throw j.error("missing field 'type'");
        return switch (type) {
            case "TemplateProcessing" -> template(j, idLimit);
            case "BertProcessing" -> around(j, "cls", "sep", idLimit);
            case "RobertaProcessing" -> around(j, "cls", "sep", idLimit);
            case "ByteLevel" -> PostProcessor.NONE;
            case "Sequence" -> {
                List<PostProcessor> parts = new ArrayList<>();
                for (Json e : j.arr("processors").elements()) parts.add(fromJson(e, idLimit));
                yield new PostProcessor() {
                    @Override
                    public TokenBuffer addSpecialTokens(TokenBuffer s) {
                        for (PostProcessor p : parts) s = p.addSpecialTokens(s);
                        return s;
                    }

                    @Override
                    public int addedTokens() {
                        return parts.stream().mapToInt(PostProcessor::addedTokens).sum();
                    }
                };
            }
            default -> throw j.unknownType("post-processor");
        };
    }

    private static PostProcessor around(Json j, String first, String last, int idLimit) {
        Piece a = pair(j.arr(first), idLimit), b = pair(j.arr(last), idLimit);
        return new Template(List.of(a, new Piece(null, null, 0), b));
    }

    private static Piece pair(Json arr, int idLimit) {
        List<Json> e = arr.elements();
        if (e.size() != 2) throw arr.error("expected [token, id]");
        return new Piece(new int[] {id(e.get(1), idLimit)}, new String[] {e.get(0).text()}, 0);
    }

    private static int id(Json n, int idLimit) {
        int id = n.asInt();
        if (id < 0 || id >= idLimit)
            throw n.error(id + " is not allowed: expected a token id in 0.." + (idLimit - 1) + " (the vocab size)");
        return id;
    }

    private static PostProcessor template(Json j, int idLimit) {
        Map<String, Piece> specials = new HashMap<>();
        Json st = j.opt("special_tokens");
        if (st != null) {
            for (var e : st.fields()) {
                Json v = e.getValue();
                List<Json> ids = v.arr("ids").elements(), toks = v.arr("tokens").elements();
                if (ids.size() != toks.size()) throw v.error("'ids' and 'tokens' differ in length");
                int[] idArr = new int[ids.size()];
                String[] tokArr = new String[ids.size()];
                for (int i = 0; i < idArr.length; i++) {
                    idArr[i] = id(ids.get(i), idLimit);
                    tokArr[i] = toks.get(i).text();
                }
                specials.put(v.str("id", e.getKey()), new Piece(idArr, tokArr, 0));
            }
        }
        List<Piece> pieces = new ArrayList<>();
        Json single = j.get("single");
        if (single.node().isTextual()) throw single.error("string templates are not supported; use the list form");
        for (Json p : single.elements()) {
            if (p.has("SpecialToken")) {
                Json s = p.obj("SpecialToken");
                String id = s.str("id");
                Piece sp = specials.get(id);
                if (sp == null) throw s.error("special token " + Json.quote(id) + " is not in special_tokens");
                pieces.add(new Piece(sp.ids(), sp.tokens(), s.integer("type_id", 0, 0, Integer.MAX_VALUE)));
            } else if (p.has("Sequence")) {
                pieces.add(new Piece(null, null, p.obj("Sequence").integer("type_id", 0, 0, Integer.MAX_VALUE)));
            } else {
                throw p.error("expected 'SpecialToken' or 'Sequence'");
            }
        }
        return new Template(pieces);
    }
}
