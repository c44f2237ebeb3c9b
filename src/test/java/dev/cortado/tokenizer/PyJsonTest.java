package dev.cortado.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Chat templates' {@code tojson} and {@code lstrip_blocks} vs Python (json.dumps 3.12 and Jinja2 3.1.6 with
 * transformers' settings; expected strings printed by Python).
 */
class PyJsonTest {
    static Map<String, Object> value() {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("a", List.of(1, 2.5, 1e-05, 1e16, 0.0001, "é\n\""));
        x.put("b", Map.of());
        x.put("c", List.of());
        x.put("d", null);
        x.put("e", true);
        return x;
    }

    @Test
    void tojsonIsPythonJsonDumps() {
        TokenizerConfig cfg = TokenizerConfig.fromJson("{\"chat_template\": \"{{ x|tojson }}|{{ x|tojson(indent=2) }}|"
                + "{{ x|tojson(ensure_ascii=true, sort_keys=true, separators=[',', ':']) }}\"}");
        String out = cfg.applyChatTemplate(new ArrayList<>(), false, Map.of("x", value()));
        assertEquals(Arrays.asList(
                "{\"a\": [1, 2.5, 1e-05, 1e+16, 0.0001, \"\u00e9\\n\\\"\"], \"b\": {}, \"c\": [], \"d\": null, \"e\": true}",
                "{\n  \"a\": [\n    1,\n    2.5,\n    1e-05,\n    1e+16,\n    0.0001,\n    \"\u00e9\\n\\\"\"\n  ],\n  \"b\": {},\n  \"c\": [],\n  \"d\": null,\n  \"e\": true\n}",
                "{\"a\":[1,2.5,1e-05,1e+16,0.0001,\"\\u00e9\\n\\\"\"],\"b\":{},\"c\":[],\"d\":null,\"e\":true}"),
                Arrays.asList(out.split("\\|")));
    }

    @Test
    void lstripBlocksOnlyAtLineStart() {
        TokenizerConfig cfg = TokenizerConfig.fromJson("{\"chat_template\": "
                + "\"a: {% if 1 %}b{% endif %}\\n  {% if 1 %}c{% endif %}\\n  {# x #}d\\n \\t{%+ if 1 %}e{% endif %}\"}");
        assertEquals("a: bcd\n \te", cfg.applyChatTemplate(new ArrayList<>(), false, Map.of()));
    }
}
