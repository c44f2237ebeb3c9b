package dev.cortado.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The chat-template sandbox: Jinja semantics where Jinja has an answer, a one-line error where it does not. */
class ChatTemplateSandboxTest {
    static List<Map<String, Object>> msgs() {
        List<Map<String, Object>> l = new ArrayList<>();
        l.add(new HashMap<>(Map.of("role", "user", "content", "hi")));
        return l;
    }

    static String render(String template) {
        return new ChatTemplate(template).render(msgs(), false, Map.of());
    }

    static String fails(String template) {
        String m = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(CortadoException.class, () -> render(template), template)).getMessage();
        assertTrue(m.startsWith("chat template") && !m.contains("\n") && !m.contains("internal error"), m);
        return m;
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " => ", quoteCharacter = '`', value = {
        "{{ 'a'.repeat(2000000000) }} => a string has no method 'repeat'",
        "{{ 'abc'.getBytes() }} => a string has no method 'getBytes'",
        "{{ messages.clear() }} => a list has no method 'clear'",
        "{{ messages.append(1) }} => read-only",
        "{{ messages[0].put('x', 1) }} => a dict has no method 'put'",
        "{{ (1).toString() }} => a number has no method 'toString'",
        "{{ 'abc'|nosuchfilter }} => unknown filter 'nosuchfilter'",
        "{% if 1 is nosuchtest %}{% endif %} => unknown test 'nosuchtest'",
        "{{ 'abc'|md5 }} => 'md5' is not allowed",
        "{{ 'abc'|center(2000000000) }} => 'center' is not allowed",
        "{% include 'x' %} => 'include' is not allowed",
        "{{ range(10000000)|length }} => range() of 10000000 items is over the chat template limit",
        "{{ range(1, 2, 0)|length }} => step must not be zero",
        "{% for i in range(1000) %}{% for j in range(1000) %}xx{% endfor %}{% endfor %} => the output is over 1048576 characters",
        "{{ range(100001)|length }} => range() of 100001 items is over the chat template limit of 100000",
        "{{ raise_exception('stop ' ~ messages|length) }} => stop 1",
        "{{ 'x' ~ }} => line 1",
        "{{ '%2000000000s'|format('x') }} => format: field width 2000000000 is over 10000",
        "{{ 'x'|indent(2000000000) }} => indent: argument 2000000000 is over the limit",
        "{{ 'x'|batch(2000000000)|list }} => batch: argument 2000000000 is over the limit",
        "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }} => Cycle detected for macro 'f'",
        "{{ raise_exception('50% sure {% set') }} => 50% sure {% set",
    })
    void errors(String template, String expected) {
        String m = fails(template);
        assertTrue(m.contains(expected), m);
    }

    @Test
    void renderTimeIsCapped() {
        String m = fails("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
        assertTrue(m.contains("longer than 2000 ms"), m);
    }

    @Test
    void callerValuesAreNotChanged() {
        List<Map<String, Object>> m = msgs();
        Map<String, Object> tools = new HashMap<>(Map.of("list", new ArrayList<>(List.of("a"))));
        ChatTemplate t = new ChatTemplate("{% set x = messages.pop() %}");
        assertThrows(CortadoException.class, () -> t.render(m, false, Map.of("tools", tools)));
        new ChatTemplate("{% set ns = namespace(a=1) %}{% set ns.a = 2 %}{{ ns.a }}").render(m, false, tools);
        assertEquals(1, m.size());
        assertEquals("hi", m.getFirst().get("content"));
        assertEquals(List.of("a"), tools.get("list"));
    }

    /** What Jinja gives for each (checked with jinja2 3.1.6's SandboxedEnvironment, trim/lstrip blocks on). */
    @ParameterizedTest
    @CsvSource(delimiterString = " => ", quoteCharacter = '`', value = {
        "{{ range(2000)|length }} => 2000",
        "{{ range(5, 0, -2)|join(',') }} => 5,3,1",
        "{{ 'abc'.bytes }} => ''",
        "{{ messages[0].content.upper() }} => HI",
        "{{ ' a b '.split()|join(',') }} => a,b",
        "{{ 'a,b,c'.split(',', 1)|join('|') }} => a|b,c",
        "{{ 'a,b,c'.rsplit(',', 1)|join('|') }} => a,b|c",
        "{{ 'xxhixx'.strip('x') }} => hi",
        "{{ 'Hi {}, {}!'.format('A', 'B') }} => Hi A, B!",
        "{{ 'aXbXc'.replace('X', '-', 1) }} => a-bXc",
        "{{ 'abc'|replace('', '-') }} => -a-b-c-",
        "{{ 'aXbXc'|replace('X', '-', 1) }} => a-bXc",
        "{{ '%s-%d'|format('a', 3) }} => a-3",
        "{% if 'abc'.startswith('ab') %}yes{% endif %} => yes",
        "{{ (' x '|safe).strip() }} => x",
        "{% set x = [] %}{% if x.append(1) %}{% endif %}{{ x|length }} => 1",
        "{% for k, v in {'a': 1}.items() %}{{ k }}={{ v }}{% endfor %} => a=1",
        "{{ {'a': 1}.get('b', 'none') }} => none",
        "{% set ns = namespace(a=1) %}{% set ns.a = ns.a + 1 %}{{ ns.a }} => 2",
        "{% for m in messages %}{{ loop.index }}{% if loop.last %}L{% endif %}{% endfor %} => 1L",
    })
    void jinjaSemantics(String template, String expected) {
        assertEquals(expected.equals("''") ? "" : expected, render(template));
    }
}
