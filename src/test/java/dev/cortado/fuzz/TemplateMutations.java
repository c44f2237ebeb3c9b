package dev.cortado.fuzz;

import java.util.SplittableRandom;

/** Seeded source-level mutations of a Jinja chat template: hostile snippets, deleted/duplicated spans, stray tags. */
final class TemplateMutations {
    static final String[] SNIPPETS = {"{{ 'a'.repeat(99999999) }}", "{{ 'abc'.getBytes() }}", "{{ messages.clear() }}",
        "{% set x = messages.pop() %}", "{{ messages.append(1) }}", "{{ range(999999999)|length }}",
"{{ x|nosuchfilter }}",
        "{% if x is nosuchtest %}{% endif %}", "{{ raise_exception('boom %s {}') }}", "{% include 'a' %}",
        "{% import 'a' as b %}", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{{ messages[0].content.__class__ }}",
        "{{ '%99999999s'|format(1) }}", "{{ messages|tojson }}", "{{ (messages|first).get('role') }}",
        "{% set ns = namespace(a=[]) %}{% set ns.a = ns.a + [1] %}", "{{", "}}", "{%", "%}", "{% endfor %}",
        "{% if %}", "{{ strftime_now('%Y-%m-%d') }}", "{{ 1/0 }}", "{{ 'a' * 3 }}", "{{ messages[-1] }}",
        "{{ messages[99]['content'] }}", "{% for m in messages %}{{ loop.cycle('a','b') }}{% endfor %}",
        "{{ messages|map(attribute='content')|join(' ') }}", "{{ tools|tojson(indent=4) }}", "{{ '\u0000\ud800' }}",
        "{{ messages|selectattr('role','equalto','user')|list|length }}", "{{ 99999999999999999999999 }}",
        "{{ [1,2,3][1:] }}", "{{ messages[::-1]|length }}", "{#", "#}", "{% raw %}", "{% endraw %}",
        "{{ 'x'|indent(999999999) }}", "{{ 'x'|batch(999999999)|list }}", "{{ 'x'|center(99999999) }}",
        "{% set d = {'a': 1} %}{{ d.items()|list }}", "{{ ''.join(['a','b']) }}", "{{ 'a{}'.format('b') }}",
        "{% for a, b in messages %}{% endfor %}", "{% break %}", "{{ loop.index }}", "{{ caller() }}",
        "{{ super() }}", "{% extends 'x' %}", "{{ namespace() }}", "{{ range(1,10,0) }}", "{{ messages|sort(attribute='x') }}",
        "{% filter upper %}x{% endfilter %}", "{{ self }}", "{{ 'abc'|replace('', 'xxxxxxxx') }}"};
    private static final String STRAY = "{}%#|.()[]'\"\\-~=,:";

    private final SplittableRandom rnd;
    private String last = "";

    TemplateMutations(SplittableRandom rnd) {
        this.rnd = rnd;
    }

    String lastDescription() {
        return last;
    }

    String mutate(String t) {
        int n = t.length();
        int at = rnd.nextInt(n + 1);
        switch (rnd.nextInt(5)) {
            case 0, 1 -> {
                String s = SNIPPETS[rnd.nextInt(SNIPPETS.length)];
                last = "insert " + s + " at " + at;
                return t.substring(0, at) + s + t.substring(at);
            }
            case 2 -> {
                int len = Math.min(n - at, rnd.nextInt(1, 40));
                last = "delete " + len + " chars at " + at;
                return t.substring(0, at) + t.substring(at + len);
            }
            case 3 -> {
                int len = Math.min(n - at, rnd.nextInt(1, 200));
                last = "duplicate " + len + " chars at " + at;
                return t.substring(0, at + len) + t.substring(at);
            }
            default -> {
                char c = STRAY.charAt(rnd.nextInt(STRAY.length()));
                last = "insert '" + c + "' at " + at;
                return t.substring(0, at) + c + t.substring(at);
            }
        }
    }
}
