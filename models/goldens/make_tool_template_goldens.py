"""Chat-template renders with tools, the reference for Cortado's tool-calling prompts (ChatToolsPromptTest).

Renders with Python Jinja2 set up exactly as transformers' apply_chat_template does
(transformers/utils/chat_template_utils.py: ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loopcontrols, tojson = json.dumps(ensure_ascii=False), raise_exception; variables messages, tools,
add_generation_prompt and the special tokens). The OpenAI request bodies are turned into template messages the way
vLLM does (an assistant tool call's arguments string is json.loads'ed into a dict; content null becomes "").

    python3 models/goldens/make_tool_template_goldens.py > src/test/resources/goldens/tokenizers/chat_tools.json
"""
import json
import sys
from pathlib import Path

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

SHARED = Path(__file__).resolve().parents[3] / "shared"
if not SHARED.exists():
    SHARED = Path("/work/shared")

# a template in the plain JSON call syntax ({"name", "arguments"}), also used by BatchToolsTest
JSON_TEMPLATE = (
    "{{ bos_token }}{% if tools %}system: You can call these functions. Reply with a JSON object "
    "{\"name\": <function-name>, \"arguments\": <args-json-object>}.\n{% for t in tools %}{{ t | tojson }}\n{% endfor %}{% endif %}"
    "{% for m in messages %}{% if m['role'] == 'tool' %}tool ({{ m['tool_call_id'] }}): {{ m['content'] }}\n"
    "{% elif m['tool_calls'] %}{{ m['role'] }}: {% for c in m['tool_calls'] %}"
    "{\"name\": \"{{ c['function']['name'] }}\", \"arguments\": {{ c['function']['arguments'] | tojson }}}{% endfor %}\n"
    "{% else %}{{ m['role'] }}: {{ m['content'] }}\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}")


def env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    e = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    e.filters["tojson"] = tojson
    e.globals["raise_exception"] = raise_exception
    return e


def template_messages(body):
    out = []
    for m in body["messages"]:
        t = {"role": m["role"], "content": m.get("content") or ""}
        if "name" in m:
            t["name"] = m["name"]
        if m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                f = c["function"]
                args = f["arguments"]
                call = {}
                if "id" in c:
                    call["id"] = c["id"]
                call["type"] = "function"
                call["function"] = {"name": f["name"], "arguments": json.loads(args) if isinstance(args, str) else args}
                calls.append(call)
            t["tool_calls"] = calls
        if m["role"] == "tool":
            t["tool_call_id"] = m["tool_call_id"]
        out.append(t)
    return out


WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
                          "unit": {"enum": ["celsius", "fahrenheit"]}}, "required": ["city", "unit"]}}}
TIME = {"type": "function", "function": {"name": "get_time", "description": "Local time (ISO 8601) in a time zone",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string", "maxLength": 20}},
                       "required": ["zone"], "additionalProperties": False}}}
ROUND_TRIP = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What's the weather in Paris and the time in Tokyo?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"celsius\"}"}},
        {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{\"zone\": \"Asia/Tokyo\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "{\"temperature\": 21, \"sky\": \"sunny\"}"},
    {"role": "tool", "tool_call_id": "call_2", "content": "2026-12-06T18:30:00+09:00"},
]


def main():
    qwen = json.loads((SHARED / "models/tokenizers/qwen3/tokenizer_config.json").read_text())
    templates = {"qwen3": (qwen["chat_template"], qwen.get("bos_token"), qwen.get("eos_token")),
                 "json": (JSON_TEMPLATE, "<s>", "</s>")}
    bodies = [
        {"messages": [{"role": "system", "content": "You are a helpful assistant."},
                      {"role": "user", "content": "Weather in Paris?"}], "tools": [WEATHER, TIME]},
        {"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": [WEATHER], "tool_choice": "required"},
        {"messages": ROUND_TRIP, "tools": [WEATHER, TIME]},
        {"messages": ROUND_TRIP + [{"role": "assistant", "content": "Sunny, 21 °C; in Tokyo it is 18:30."},
                                   {"role": "user", "content": "Thanks!"}], "tools": [WEATHER, TIME], "tool_choice": "none"},
    ]
    e = env()
    cases = []
    for name, (src, bos, eos) in templates.items():
        t = e.from_string(src)
        for body in bodies:
            text = t.render(messages=template_messages(body), tools=body["tools"], add_generation_prompt=True,
                            bos_token=bos, eos_token=eos, pad_token=None, unk_token=None)
            cases.append({"template": name, "body": body, "text": text})
    json.dump({"generator": "models/goldens/make_tool_template_goldens.py",
               "reference": {"library": "jinja2 (Python), transformers' chat-template environment",
                             "version": jinja2.__version__},
               "json_template": JSON_TEMPLATE, "cases": cases}, sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()
