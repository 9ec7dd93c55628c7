using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IntelSharing.IntegrationTests.Fuzzing;

/// <summary>
/// A seeded generator of bad requests. Each case starts from a valid request to one endpoint (so mutations
/// reach deep validation and the handlers) and applies one to three mutations: to the JSON body's structure
/// and values, to the document as a whole, to headers, query parameters, route ids, the method, or the
/// HTTP/1.1 framing. Case <c>n</c> of seed <c>s</c> is always the same request: it draws only from its own
/// <see cref="Random"/> and the fixed lists of <see cref="FuzzWorld"/>, never from earlier responses.
/// </summary>
public sealed class RequestFuzzer(FuzzWorld world, int seed)
{
    private static readonly int TotalWeight = FuzzTargets.All.Sum(t => t.Weight);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] Injections =
    [
        "' OR 1=1 --", "\"; DROP TABLE alerts; --", "1; DELETE FROM agencies", "Robert'); DROP TABLE subscriptions;--",
        "%' UNION SELECT secret, secret FROM subscriptions --", "' OR '1'='1' /*", "admin'--", "1' AND SLEEP(5) AND '1'='1",
        "<script>alert(1)</script>", "<img src=x onerror=alert(document.cookie)>", "\"><svg/onload=alert(1)>", "javascript:alert(1)",
        "{\"$ne\": null}", "{\"$gt\": \"\"}", "{{7*7}}", "${7*7}", "#{7*7}", "${jndi:ldap://127.0.0.1/a}",
        "../../../../etc/passwd", "..\\..\\..\\windows\\win.ini", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "file:///etc/passwd", "/dev/random",
        "\r\nX-Injected: yes", "value\r\n\r\n<html>", "%0d%0aX-Injected:%20yes", "line1\nline2", "$(id)", "`id`", "; ls -la", "| cat /etc/passwd",
        "%s%s%s%s%n", "{0}{1}{2}", "\\", "\"", "'", "null", "undefined", "NaN", "true", "[]", "{}", "0", "-1",
    ];

    private static readonly string[] OddText =
    [
        "", " ", "\t", "   padded   ", "\0", "nul\0inside", "\u0001\u0002\u0003", "\u001b[31mred\u001b[0m", "\u007f", "bell\u0007",
        "\u2028\u2029", "\ufeffBOM", "\u202etxet desrever", "zero\u200bwidth", "a\u0301\u0301\u0301", "Београд", "Ђорђе Њ Ћ", "Horgoš–Röszke",
        "🚚🇷🇸", "\uffff", "\ufffe", "\ud83d\ude00", "ｔｉｔｌｅ", "İstanbul", "ß", "\u00a0", "x\u0085y",
    ];

    private static readonly string[] NumberTokens =
    [
        "0", "-0", "-1", "1.5", "0.1", "1e308", "1e400", "-1e400", "1E2", "1e-400", "2147483647", "2147483648", "-2147483649",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999999999999999999999",
        "100000", "100001", "1e5", "4.0", "-100000",
        // Not JSON at all.
        "NaN", "Infinity", "-Infinity", "0x10", "+1", "01", ".5", "1.", "1e", "--1", "1_000",
    ];

    private static readonly string[] DateValues =
    [
        "2026-13-45T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
        "2026-11-01", "2026-11-01T00:00:00", "1700000000", "yesterday", "", "2026-02-30T00:00:00Z", "2026-11-01T24:00:00Z",
        "2026-11-01T00:00:00.123456789Z", "+002026-11-01T00:00:00Z", "2026-11-01T00:00:00+99:00", "1900-01-01", "1899-12-31", "2999-01-01",
        "10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "2026-W44", "2026-11-01 00:00:00Z", "2026-11-01T00:00Z", "T",
    ];

    private static readonly string[] GuidLike =
    [
        "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "not-a-guid", "1", "-1", "{00000000-0000-0000-0000-000000000001}",
        "00000000000000000000000000000001", "0000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-0000000000011", "g0000000-0000-0000-0000-000000000000",
        "(00000000-0000-0000-0000-000000000001)", "' OR 1=1 --",
    ];

    private static readonly string[] PropertyNameOddities =
    [
        "__proto__", "constructor", "$type", "$id", "$ref", "", " ", "fuzz", "ｔｉｔｌｅ", "\u0000", "title\u0000", "a.b", "a[0]", "$.title",
    ];

    private static readonly string[] ContentTypes =
    [
        "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=fuzz", "application/json; charset=utf-16",
        "application/json; charset=iso-8859-1", "application/json; charset=nonsense", "application/json; charset=\"utf-8", "application/json;;;",
        "application/*", "*/*", "application/JSON", "APPLICATION/JSON; CHARSET=UTF-8", "application/problem+json", "application/merge-patch+json",
        "application/vnd.api+json", "json", "", "a/b/c", "application/json, text/plain", "application/json; x=" + new string('a', 5000),
        "application/json; charset=utf-8; charset=utf-16", "application/json; boundary=\"", "text/json", "application/json-patch+json",
    ];

    private static readonly string[] ETagValues =
    [
        "*", "\"1\"", "W/\"1\"", "\"99999999999999\"", "\"-1\"", "1", "\"\"", "\"", "garbage", "\"1\", \"2\"", "W/", new string('"', 2000), "\"2147483648\"",
    ];

    private static readonly string[] AcceptValues =
    [
        "application/xml", "text/html", "*/*;q=0", "application/json;q=0", ";;;", "", "application/problem+json", "text/event-stream", "image/png",
    ];

    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FUZZ", "CONNECT"];

    public static int CaseSeed(int seed, int index) => unchecked((seed * 1_000_003) + (index * 7_919) + 17);

    public FuzzRequest Generate(int index)
    {
        var random = new Random(CaseSeed(seed, index));
        var target = PickTarget(random);
        var draft = Draft.For(target, world, random);
        var count = random.Next(100) switch
        {
            < 3 => 0,
            < 70 => 1,
            < 92 => 2,
            _ => 3,
        };
        for (var i = 0; i < count; i++)
        {
            Mutate(draft, target, random);
        }

        return draft.Build();
    }

    /// <summary>The valid request to a target, unmutated: the fuzz test first checks each is accepted.</summary>
    public FuzzRequest Valid(FuzzTarget target, int index) => Draft.For(target, world, new Random(CaseSeed(seed, -1 - index))).Build();

    private static FuzzTarget PickTarget(Random random)
    {
        var roll = random.Next(TotalWeight);
        foreach (var target in FuzzTargets.All)
        {
            roll -= target.Weight;
            if (roll < 0)
            {
                return target;
            }
        }

        return FuzzTargets.All[^1];
    }

    private void Mutate(Draft draft, FuzzTarget target, Random random)
    {
        var hasJson = draft.Json is not null;
        var roll = random.Next(100);
        if (hasJson)
        {
            switch (roll)
            {
                case < 50:
                    MutateField(draft, random);
                    return;
                case < 60:
                    MutateDocument(draft, random);
                    return;
                case < 78:
                    MutateHeaders(draft, random);
                    return;
                case < 82:
                    MutateQuery(draft, target, random);
                    return;
                case < 90:
                    MutatePath(draft, random);
                    return;
                case < 95:
                    MutateMethod(draft, random);
                    return;
                default:
                    MutateWire(draft, random);
                    return;
            }
        }

        switch (roll)
        {
            case < 30:
                MutateHeaders(draft, random);
                return;
            case < 62:
                MutateQuery(draft, target, random);
                return;
            case < 82:
                MutatePath(draft, random);
                return;
            case < 89:
                MutateMethod(draft, random);
                return;
            case < 94:
                MutateWire(draft, random);
                return;
            default:
                // A body where none belongs, sometimes valid JSON for another endpoint.
                draft.Json = FuzzTargets.All.Where(t => t.Body is not null).Select(t => t.Body!(world, random)).ElementAt(random.Next(6));
                draft.SetHeader("Content-Type", "application/json");
                draft.Note("body added to a request that takes none");
                return;
        }
    }

    // ----- The JSON body, field by field -----
    private void MutateField(Draft draft, Random random)
    {
        var slots = Slots(draft.Json!).ToList();
        if (slots.Count == 0)
        {
            MutateDocument(draft, random);
            return;
        }

        var slot = slots[random.Next(slots.Count)];
        switch (random.Next(13))
        {
            case 0:
                Remove(slot);
                draft.Note($"dropped {slot.Path}");
                break;
            case 1 when slot.Parent is JsonObject:
            {
                var second = random.Next(2) == 0 ? slot.Value?.DeepClone() : TypeConfused(slot.Value, random);
                var splice = $"{Json(slot.Value)}, {JsonSerializer.Serialize(slot.Key)}: {Json(second)}";
                Replace(slot, draft.Splice(Encoding.UTF8.GetBytes(splice)));
                draft.Note($"duplicated key {slot.Path}");
                break;
            }

            case 2 when slot.Parent is JsonObject parent:
            {
                var name = RenamedKey(slot.Key!, random);
                parent.Remove(slot.Key!);
                parent[name] = slot.Value?.DeepClone();
                draft.Note($"renamed {slot.Path} to {JsonSerializer.Serialize(name)}");
                break;
            }

            case 3:
            {
                var objects = Objects(draft.Json!).ToList();
                var into = objects[random.Next(objects.Count)];
                var name = random.Next(2) == 0 ? FuzzTarget.Pick(random, PropertyNameOddities) : $"unexpected{random.Next(100)}";
                into.Node[name] = TypeConfused(null, random);
                draft.Note($"added unknown property {JsonSerializer.Serialize(name)} at {into.Path}");
                break;
            }

            case 4:
            case 5:
            {
                var replacement = TypeConfused(slot.Value, random);
                Replace(slot, replacement);
                draft.Note($"type confusion at {slot.Path}: {Describe(replacement)}");
                break;
            }

            case 6:
            {
                var token = FuzzTarget.Pick(random, NumberTokens);
                Replace(slot, draft.Splice(Encoding.ASCII.GetBytes(token)));
                draft.Note($"number {token} at {slot.Path}");
                break;
            }

            case 7:
            case 8:
                StringEdge(draft, slot, random);
                break;
            case 9:
                ContextEdge(draft, slot, random);
                break;
            case 10:
            {
                var depth = FuzzTarget.Pick(random, new[] { 2, 31, 33, 100, 5_000 });
                var array = random.Next(2) == 0;
                var text = new StringBuilder();
                for (var i = 0; i < depth; i++)
                {
                    text.Append(array ? "[" : "{\"a\":");
                }

                text.Append(Json(slot.Value));
                for (var i = 0; i < depth; i++)
                {
                    text.Append(array ? ']' : '}');
                }

                Replace(slot, draft.Splice(Encoding.UTF8.GetBytes(text.ToString())));
                draft.Note($"nested {slot.Path} {depth} deep in {(array ? "arrays" : "objects")}");
                break;
            }

            case 11:
                ArrayEdge(draft, slot, random);
                break;
            default:
                MoveToWrongPlace(draft, slot, random);
                break;
        }
    }

    private static void StringEdge(Draft draft, Slot slot, Random random)
    {
        switch (random.Next(8))
        {
            case 7:
            {
                // One control character inside an otherwise valid value: the case most likely to pass validation
                // and reach a database column (PostgreSQL text cannot hold U+0000).
                var original = slot.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : "Horgoš";
                var at = random.Next(original.Length + 1);
                var control = FuzzTarget.Pick(random, new[] { '\0', '\0', '\0', '\u0001', '\u001b', '\u007f', '\u0085', '\u2028' });
                Replace(slot, JsonValue.Create(original[..at] + control + original[at..]));
                draft.Note($"U+{(int)control:X4} inside the value at {slot.Path}");
                break;
            }

            case 0:
            {
                var length = FuzzTarget.Pick(random, new[] { 201, 256, 501, 2_001, 8_001, 65_537, 400_000 });
                var ch = FuzzTarget.Pick(random, new[] { 'A', 'Ж', '€', ' ' });
                Replace(slot, JsonValue.Create(new string(ch, length)));
                draft.Note($"string of {length} '{ch}' at {slot.Path}");
                break;
            }

            case 1:
            case 2:
            {
                var value = FuzzTarget.Pick(random, Injections);
                Replace(slot, JsonValue.Create(value));
                draft.Note($"injection {JsonSerializer.Serialize(value)} at {slot.Path}");
                break;
            }

            case 3:
            {
                var value = FuzzTarget.Pick(random, OddText);
                var original = slot.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : "x";
                var combined = random.Next(2) == 0 ? value : original + value;
                Replace(slot, JsonValue.Create(combined));
                draft.Note($"odd text {JsonSerializer.Serialize(combined.Length > 80 ? combined[..80] : combined)} at {slot.Path}");
                break;
            }

            case 4:
            {
                // Bytes that are not UTF-8 inside a JSON string.
                var bad = FuzzTarget.Pick(random, new byte[][] { [0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFE, 0xFF], [0x80] });
                var bytes = new List<byte> { (byte)'"', (byte)'R', (byte)'S' };
                bytes.AddRange(bad);
                bytes.Add((byte)'"');
                Replace(slot, draft.Splice([.. bytes]));
                draft.Note($"invalid UTF-8 {Convert.ToHexString(bad)} in a string at {slot.Path}");
                break;
            }

            case 5:
            {
                // Escapes that decode to lone UTF-16 surrogates.
                var escape = FuzzTarget.Pick(random, new[] { "\"\\ud800\"", "\"\\udc00x\"", "\"a\\ud83d\"", "\"\\udfff\\ud800\"", "\"RS\\u0000\"" });
                Replace(slot, draft.Splice(Encoding.ASCII.GetBytes(escape)));
                draft.Note($"escape {escape} at {slot.Path}");
                break;
            }

            default:
            {
                // Control characters JSON forbids unescaped.
                var raw = FuzzTarget.Pick(random, new byte[][] { [0x00], [0x01], [0x0A], [0x0D, 0x0A], [0x1F], [0x09] });
                var bytes = new List<byte> { (byte)'"', (byte)'a' };
                bytes.AddRange(raw);
                bytes.AddRange("b\""u8.ToArray());
                Replace(slot, draft.Splice([.. bytes]));
                draft.Note($"raw control byte {Convert.ToHexString(raw)} in a string at {slot.Path}");
                break;
            }
        }
    }

    private void ContextEdge(Draft draft, Slot slot, Random random)
    {
        var text = slot.Value is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
        string replacement;
        if (text is not null && Guid.TryParse(text, out _))
        {
            replacement = random.Next(3) == 0
                ? FuzzTarget.Pick(random, world.AllIds.ToList()).ToString()
                : random.Next(2) == 0 ? text.ToUpperInvariant() : FuzzTarget.Pick(random, GuidLike);
        }
        else if (text is not null && text.Length >= 10 && char.IsAsciiDigit(text[0]) && text[4] == '-')
        {
            replacement = random.Next(4) == 0
                ? DateTimeOffset.UtcNow.AddDays(random.Next(-40_000, 40_000)).ToString("O", CultureInfo.InvariantCulture)
                : FuzzTarget.Pick(random, DateValues);
        }
        else
        {
            var original = text ?? "amber";
            replacement = random.Next(9) switch
            {
                0 => original.ToUpperInvariant(),
                1 => char.ToUpperInvariant(original.FirstOrDefault('a')) + (original.Length > 1 ? original[1..] : string.Empty),
                2 => " " + original,
                3 => original + " ",
                4 => original.Replace('_', '-').Replace('+', ' '),
                5 => original + "," + original,
                6 => FuzzTarget.Pick(random, new[] { "amber strict", "AMBER+STRICT", "amber%2Bstrict", "amber+", "h1", "b", "5", "X1", "clear\u0000" }),
                7 => original.Normalize(NormalizationForm.FormD) + "\u0301",
                _ => original.Length > 1 ? original[..^1] : "?",
            };
        }

        Replace(slot, JsonValue.Create(replacement));
        draft.Note($"value {JsonSerializer.Serialize(replacement.Length > 60 ? replacement[..60] : replacement)} at {slot.Path}");
    }

    private static void ArrayEdge(Draft draft, Slot slot, Random random)
    {
        if (slot.Value is not JsonArray array)
        {
            Replace(slot, new JsonArray(slot.Value?.DeepClone(), slot.Value?.DeepClone()));
            draft.Note($"wrapped {slot.Path} in an array");
            return;
        }

        switch (random.Next(5))
        {
            case 0:
                array.Clear();
                draft.Note($"emptied {slot.Path}");
                break;
            case 1:
                array.Add(null);
                draft.Note($"null element in {slot.Path}");
                break;
            case 2:
                array.Add(TypeConfused(array.FirstOrDefault(), random));
                draft.Note($"mixed-type element in {slot.Path}");
                break;
            default:
            {
                var template = array.FirstOrDefault() ?? JsonValue.Create("RS");
                var count = FuzzTarget.Pick(random, new[] { 2, 21, 51, 101, 201, 501, 3_000 });
                var size = Encoding.UTF8.GetByteCount(template.ToJsonString());
                count = Math.Min(count, Math.Max(2, 900_000 / Math.Max(1, size)));
                array.Clear();
                for (var i = 0; i < count; i++)
                {
                    array.Add(template.DeepClone());
                }

                draft.Note($"{count} copies of one element in {slot.Path}");
                break;
            }
        }
    }

    private static void MoveToWrongPlace(Draft draft, Slot slot, Random random)
    {
        if (slot.Parent is not JsonObject parent)
        {
            Replace(slot, new JsonObject { ["value"] = slot.Value?.DeepClone() });
            draft.Note($"wrapped {slot.Path} in an object");
            return;
        }

        var objects = Objects(draft.Json!).Where(o => !ReferenceEquals(o.Node, parent) && !IsWithin(o.Node, slot.Value)).ToList();
        parent.Remove(slot.Key!);
        if (objects.Count > 0 && random.Next(3) > 0)
        {
            var into = objects[random.Next(objects.Count)];
            into.Node[slot.Key!] = slot.Value;
            draft.Note($"moved {slot.Path} into {into.Path}");
        }
        else
        {
            parent["nested"] = new JsonObject { [slot.Key!] = slot.Value };
            draft.Note($"moved {slot.Path} one level down");
        }
    }

    private static bool IsWithin(JsonNode candidate, JsonNode? ancestor)
    {
        for (var node = candidate; node is not null; node = node.Parent)
        {
            if (ReferenceEquals(node, ancestor))
            {
                return true;
            }
        }

        return false;
    }

    private static JsonNode? TypeConfused(JsonNode? current, Random random) => random.Next(14) switch
    {
        0 => JsonValue.Create(0),
        1 => JsonValue.Create(-1),
        2 => JsonValue.Create(1.5),
        3 => JsonValue.Create(true),
        4 => JsonValue.Create(false),
        5 => null,
        6 => JsonValue.Create(string.Empty),
        7 => JsonValue.Create("text"),
        8 => new JsonArray(),
        9 => new JsonArray(current?.DeepClone()),
        10 => new JsonObject(),
        11 => new JsonObject { ["value"] = current?.DeepClone() },
        12 => JsonValue.Create(long.MaxValue),
        _ => JsonValue.Create(current?.ToJsonString() ?? "null"),
    };

    private static string RenamedKey(string key, Random random) => random.Next(8) switch
    {
        0 => key.ToUpperInvariant(),
        1 => char.ToUpperInvariant(key[0]) + key[1..],
        2 => string.Concat(key.Select(c => char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : c.ToString())),
        3 => key + " ",
        4 => key.Length > 1 ? key[..^1] : "x",
        5 => key + "s",
        _ => FuzzTarget.Pick(random, PropertyNameOddities),
    };

    // ----- The body as a whole -----
    private static void MutateDocument(Draft draft, Random random)
    {
        var valid = draft.BodyBytes() ?? "{}"u8.ToArray();
        var text = Encoding.UTF8.GetString(valid);
        (byte[] Body, string Note) choice = random.Next(22) switch
        {
            0 => ([], "empty body"),
            1 => (" \r\n\t "u8.ToArray(), "whitespace body"),
            2 => ("null"u8.ToArray(), "body null"),
            3 => ("[]"u8.ToArray(), "body []"),
            4 => (Encoding.UTF8.GetBytes("[" + text + "]"), "body wrapped in an array"),
            5 => ("\"text\""u8.ToArray(), "body is a string"),
            6 => ("42"u8.ToArray(), "body is a number"),
            7 => (valid[..random.Next(Math.Max(1, valid.Length))], "truncated body"),
            8 => (Encoding.UTF8.GetBytes(text + FuzzTarget.Pick(random, new[] { "}", ",", "garbage", "{}", "\0" })), "trailing garbage"),
            9 => (Encoding.UTF8.GetBytes(text + text), "two documents"),
            10 => (Encoding.UTF8.GetBytes("/* comment */" + text + "// end"), "comments"),
            11 => (Encoding.UTF8.GetBytes(text.Length > 1 ? text[..^1] + ",}" : text), "trailing comma"),
            12 => (Encoding.UTF8.GetBytes(text.Replace('"', '\'')), "single quotes"),
            13 => ([0xEF, 0xBB, 0xBF, .. valid], "UTF-8 byte order mark"),
            14 => (Encoding.Unicode.GetBytes(text), "UTF-16LE body"),
            15 => (RandomBytes(random), "random bytes"),
            16 => ("title=x&severity=high&tlp=red"u8.ToArray(), "form-urlencoded body"),
            17 => ("<?xml version=\"1.0\"?><alert><title>x</title></alert>"u8.ToArray(), "XML body"),
            18 => (Encoding.ASCII.GetBytes(new string('[', 10_000) + new string(']', 10_000)), "10,000 nested arrays"),
            19 => (Encoding.UTF8.GetBytes(text.Replace("\"", "\"\\u0000", StringComparison.Ordinal)), "NUL escapes in every string"),
            20 => (Oversized(text), "body over the 1 MiB limit"),
            _ => (Encoding.UTF8.GetBytes(text.ToUpperInvariant()), "upper-cased document"),
        };

        draft.Json = null;
        draft.RawBody = choice.Body;
        if (choice.Note == "body over the 1 MiB limit" && random.Next(2) == 0)
        {
            draft.Chunked = true;
            draft.Note("chunked " + choice.Note);
        }
        else
        {
            draft.Note(choice.Note);
        }

        if (draft.Header("Content-Type") is null)
        {
            draft.SetHeader("Content-Type", "application/json");
        }
    }

    private static byte[] Oversized(string text)
    {
        var padding = new string('A', (1024 * 1024) + 1000);
        return Encoding.UTF8.GetBytes(text.Length > 2 ? text[..^1] + ",\"padding\":\"" + padding + "\"}" : padding);
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(1, 300)];
        random.NextBytes(bytes);
        return bytes;
    }

    // ----- Headers -----
    private void MutateHeaders(Draft draft, Random random)
    {
        switch (random.Next(12))
        {
            case 0:
            case 1:
            {
                if (random.Next(4) == 0)
                {
                    draft.RemoveHeader("Content-Type");
                    draft.Note("no Content-Type");
                }
                else
                {
                    var value = FuzzTarget.Pick(random, ContentTypes);
                    draft.SetHeader("Content-Type", value);
                    draft.Note($"Content-Type {FuzzRequest.Shorten(value, 60)}");
                }

                break;
            }

            case 2:
            case 3:
            {
                var key = draft.Header("Authorization") is { Length: > 20 } current && current.StartsWith("Bearer ", StringComparison.Ordinal)
                    ? current["Bearer ".Length..]
                    : world.PartnerKey;
                var value = random.Next(17) switch
                {
                    0 => null,
                    1 => "Bearer",
                    2 => "Bearer ",
                    3 => "Bearer  " + key,
                    4 => "bearer " + key,
                    5 => "Basic ZnV6ejpmdXp6",
                    6 => key,
                    7 => "Bearer " + key + " extra",
                    8 => "Bearer " + key[..^1],
                    9 => "Bearer " + key[..^1] + (key[^1] == 'A' ? 'B' : 'A'),
                    10 => "Bearer " + key + key,
                    11 => "Bearer isk_" + new string('a', 8_000),
                    12 => "Bearer isk_aaaaaaaaaa_" + new string('A', 43),
                    13 => "Bearer " + FuzzTarget.Pick(random, Injections),
                    14 => "Bearer " + Latin1("ключ_ё"),
                    _ => "Bearer " + FuzzTarget.Pick(random, world.WeakKeys.Concat([world.OriginatorKey, world.PartnerKey, world.OperatorKey]).ToList()),
                };
                if (value is null)
                {
                    draft.RemoveHeader("Authorization");
                    draft.Note("no Authorization");
                }
                else
                {
                    draft.SetHeader("Authorization", value);
                    draft.Note($"Authorization {FuzzRequest.Shorten(value, 70)}");
                }

                break;
            }

            case 4:
            {
                var value = random.Next(12) switch
                {
                    0 => string.Empty,
                    1 => " ",
                    2 => new string('k', 256),
                    3 => new string('k', 255),
                    4 => "key with spaces",
                    5 => Latin1("ključ-ђ"),
                    6 => "a\r\nX-Injected: yes",
                    7 => "a\0b",
                    8 => "\t",
                    9 => new string('k', 20_000),
                    10 => "fuzz-key-" + random.Next(4),
                    _ => FuzzTarget.Pick(random, Injections),
                };
                draft.SetHeader("Idempotency-Key", value);
                if (random.Next(4) == 0)
                {
                    draft.Headers.Add(new("Idempotency-Key", "second-value"));
                }

                draft.Note($"Idempotency-Key {FuzzRequest.Shorten(value, 60)}");
                break;
            }

            case 5 when random.Next(3) == 0:
            {
                var value = FuzzTarget.Pick(random, new[] { string.Empty, " ", new string('p', 501), new string('p', 20_000), "Inquiry\tN°7", Latin1("Истрага 2026/114"), "\x01\x02", FuzzTarget.Pick(random, Injections) });
                draft.SetHeader("X-Purpose", value);
                draft.Note($"X-Purpose {FuzzRequest.Shorten(value, 40)}");
                break;
            }

            case 5:
            {
                var name = random.Next(2) == 0 ? "If-Match" : "If-None-Match";
                var value = FuzzTarget.Pick(random, ETagValues);
                draft.SetHeader(name, value);
                draft.Note($"{name} {FuzzRequest.Shorten(value, 40)}");
                break;
            }

            case 6:
            {
                var value = FuzzTarget.Pick(random, AcceptValues);
                draft.SetHeader("Accept", value);
                draft.Note($"Accept {value}");
                break;
            }

            case 7:
            {
                var size = FuzzTarget.Pick(random, new[] { 4_000, 12_000, 20_000 });
                draft.Headers.Add(new("X-Fuzz-Padding", new string('p', size)));
                draft.Note($"{size}-byte header");
                break;
            }

            case 8:
            {
                for (var i = 0; i < 80; i++)
                {
                    draft.Headers.Add(new($"X-Fuzz-{i}", i.ToString(CultureInfo.InvariantCulture)));
                }

                draft.Note("80 extra headers");
                break;
            }

            case 9:
            {
                var (name, value) = FuzzTarget.Pick(random, new (string, string)[]
                {
                    ("X-Forwarded-For", "' OR 1=1 --"), ("X-HTTP-Method-Override", "DELETE"), ("X-Original-URL", "/api/v1/agencies"),
                    ("X-Forwarded-Host", "evil.example"), ("Forwarded", "for=\"[::1]\";proto=https"), ("Content-Encoding", "gzip"),
                    ("Content-Encoding", "br, identity"), ("Expect", "100-continue"), ("Expect", "fuzz"), ("Cookie", "session=' OR 1=1"),
                    ("Origin", "null"), ("Range", "bytes=0-1"), ("Transfer-Encoding", "gzip"), ("Authorization", "Bearer a, Bearer b"),
                });
                draft.Headers.Add(new(name, value));
                draft.Note($"header {name}: {value}");
                break;
            }

            case 10:
            {
                var auth = draft.Header("Authorization");
                if (auth is not null)
                {
                    draft.Headers.Add(new("Authorization", "Bearer " + FuzzTarget.Pick(random, world.WeakKeys)));
                    draft.Note("two Authorization headers");
                }

                break;
            }

            default:
            {
                // Bytes HttpClient will not send: control characters and raw non-ASCII in a header value.
                var name = FuzzTarget.Pick(random, new[] { "Idempotency-Key", "X-Fuzz", "If-None-Match", "Content-Type", "Authorization", "Accept" });
                var value = FuzzTarget.Pick(random, new[] { "a\0b", "\x7F", "\xFF\xFE", "\xC3\x28", "x\ry", "x\ny", Latin1("Београд"), "\x1B[2J" });
                draft.SetHeader(name, value);
                draft.Note($"raw bytes in {name}: {FuzzRequest.Shorten(value, 20)}");
                break;
            }
        }
    }

    // ----- Query string -----
    private void MutateQuery(Draft draft, FuzzTarget target, Random random)
    {
        var parameters = target.QueryParameters?.Keys.ToList() ?? [];
        if (parameters.Count == 0 || random.Next(8) == 0)
        {
            var name = FuzzTarget.Pick(random, new[] { "fuzz", "limit", "$filter", "id", "callback", "format" });
            draft.Query.Add(new(name, Escape(FuzzTarget.Pick(random, Injections))));
            draft.Note($"query parameter {name} on an endpoint that ignores it");
            return;
        }

        // Valid values for some parameters, so a bad one meets real filters and reaches the SQL.
        foreach (var name in parameters.Where(_ => random.Next(3) == 0))
        {
            var value = ValidQueryValue(target, name, random);
            if (value is not null)
            {
                draft.Query.Add(new(name, value));
            }
        }

        var victim = FuzzTarget.Pick(random, parameters);
        switch (random.Next(10))
        {
            case 0:
            case 1:
            case 2:
            {
                var value = BadQueryValue(victim, random);
                draft.Query.Add(new(victim, value));
                draft.Note($"?{victim}={FuzzRequest.Shorten(value, 80)}");
                break;
            }

            case 3:
            {
                var count = random.Next(2, 4);
                for (var i = 0; i < count; i++)
                {
                    draft.Query.Add(new(victim, ValidQueryValue(target, victim, random) ?? "x"));
                }

                draft.Note($"?{victim} repeated {count} times");
                break;
            }

            case 4:
                draft.Query.Add(new(victim, null));
                draft.Note($"?{victim} without '='");
                break;
            case 5:
                draft.Query.Add(new(victim, string.Empty));
                draft.Note($"?{victim}= (empty)");
                break;
            case 6:
            {
                var name = random.Next(2) == 0 ? victim.ToUpperInvariant() : victim + "[]";
                draft.Query.Add(new(name, ValidQueryValue(target, victim, random) ?? "1"));
                draft.Note($"?{name}=");
                break;
            }

            case 7:
                draft.RawQuery = FuzzTarget.Pick(random, new[] { "?", "??limit=1", "?&&&", "?=x", "?limit=1&", "?%", "?%zz=1", "?a=%", "?" + new string('&', 5_000), "?x=" + new string('y', 7_000) });
                draft.Note($"query string {FuzzRequest.Shorten(draft.RawQuery, 40)}");
                break;
            case 8:
            {
                for (var i = 0; i < 100; i++)
                {
                    draft.Query.Add(new(FuzzTarget.Pick(random, parameters), ValidQueryValue(target, victim, random) ?? "1"));
                }

                draft.Note("100 query parameters");
                break;
            }

            default:
            {
                var value = FuzzTarget.Pick(random, new[] { "\xFF", "\x00", "a b", "\x7F", Latin1("Србија"), "\r\n" });
                draft.Query.Add(new(victim, value));
                draft.Note($"raw bytes in ?{victim}");
                break;
            }
        }
    }

    private string? ValidQueryValue(FuzzTarget target, string name, Random random)
    {
        return name switch
        {
            "cursor" => FuzzTarget.Pick(random, world.Cursors),
            "subscription" => FuzzTarget.Pick(random, world.SubscriptionIds).ToString(),
            "agency" => FuzzTarget.Pick(random, world.AgencyIds).ToString(),
            "resourceId" => FuzzTarget.Pick(random, world.AlertIds).ToString(),
            _ => target.QueryParameters![name] is { Length: > 0 } values ? FuzzTarget.Pick(random, values) : null,
        };
    }

    private string BadQueryValue(string name, Random random)
    {
        var generic = random.Next(8) switch
        {
            0 => Escape(FuzzTarget.Pick(random, Injections)),
            1 => new string('a', FuzzTarget.Pick(random, new[] { 201, 5_000 })),
            2 => FuzzTarget.Pick(random, new[] { "%FF%FE", "%C3%28", "%00", "%0D%0AX-Injected:%20yes", "%E2%80%AE", "%D0%91%D0%B5%D0%BE", "%ED%A0%80", "%", "%G0", "%2", "+", "%20" }),
            3 => Escape(FuzzTarget.Pick(random, OddText)),
            4 => FuzzTarget.Pick(random, NumberTokens),
            _ => null,
        };
        if (generic is not null)
        {
            return generic;
        }

        return name switch
        {
            "limit" => FuzzTarget.Pick(random, new[] { "0", "-1", "201", "1e3", "2147483648", "99999999999999999999", "1.5", " 1", "0x10", "+5", "٣", "１" }),
            "updatedAfter" => Escape(FuzzTarget.Pick(random, DateValues)),
            "cursor" => random.Next(3) switch
            {
                0 => TamperedCursor(random),
                1 => Convert.ToBase64String(RandomBytes(random)).TrimEnd('='),
                _ => FuzzTarget.Pick(random, new[] { "===", "A", "-_-_", "%2B%2F", new string('A', 200), new string('A', 44) }),
            },
            "subscription" or "agency" or "resourceId" => Escape(FuzzTarget.Pick(random, GuidLike)),
            "from" or "to" => Escape(FuzzTarget.Pick(random, DateValues)),
            "action" => FuzzTarget.Pick(random, new[] { "ALERT.READ", "alert..read", "alert.read,", ".", "alert.read%00", "a" + new string('.', 300), "alert read" }),
            "country" => FuzzTarget.Pick(random, new[] { "rs", "XX", "RS,,HU", ",", "RSS", "R", "RS%2CHU", string.Join(',', Enumerable.Repeat("RS", 300)) }),
            _ => FuzzTarget.Pick(random, new[] { "LOW", "High", "amber", "dead,pending", "in-flight", ",", "migrant-smuggling", "cyber_incident%00", "*" }),
        };
    }

    private string TamperedCursor(Random random)
    {
        var cursor = FuzzTarget.Pick(random, world.Cursors).ToCharArray();
        var i = random.Next(cursor.Length);
        cursor[i] = cursor[i] == 'A' ? 'B' : 'A';
        return new string(cursor);
    }

    // ----- Route ids and paths -----
    private void MutatePath(Draft draft, Random random)
    {
        var segments = draft.Path.Split('/');
        var ids = segments.Select((s, i) => (s, i)).Where(p => Guid.TryParse(p.s, out _)).Select(p => p.i).ToList();
        if (ids.Count > 0 && random.Next(4) > 0)
        {
            var at = FuzzTarget.Pick(random, ids);
            var replacement = random.Next(6) switch
            {
                0 => Guid.NewGuid().ToString(),
                1 => FuzzTarget.Pick(random, world.AllIds.ToList()).ToString(),
                2 => segments[at].ToUpperInvariant(),
                _ => FuzzTarget.Pick(random, new[]
                {
                    "not-a-guid", "00000000-0000-0000-0000-000000000000", "1", "-1", "%27%20OR%20%271%27%3D%271", "..", "%2e%2e", "..%2F..%2Fetc%2Fpasswd",
                    "%00", "%0D%0AX-Injected:%20yes", "%FF%FE", "%C3%28", "%7B" + segments[at] + "%7D", segments[at] + "%20", segments[at] + ";x=1",
                    new string('a', 5_000), "%252e%252e", segments[at].Replace("-", string.Empty, StringComparison.Ordinal), "\xFF", Latin1("ђ"),
                }),
            };
            segments[at] = replacement;
            draft.Path = string.Join('/', segments);
            draft.Note($"route id {FuzzRequest.Shorten(replacement, 60)}");
            return;
        }

        var path = draft.Path;
        draft.Path = random.Next(10) switch
        {
            0 => path + "/",
            1 => path.Replace("/api/", "//api/", StringComparison.Ordinal),
            2 => path.ToUpperInvariant(),
            3 => path + "/./",
            4 => path.Replace("/v1/", "/v2/", StringComparison.Ordinal),
            5 => path + ".json",
            6 => path + "%2F",
            7 => path + "/../../agencies",
            8 => path + "/extra/segment",
            _ => path + "/%2e%2e/%2e%2e/swagger/v1/swagger.json",
        };
        draft.Note($"path {FuzzRequest.Shorten(draft.Path, 80)}");
    }

    private static void MutateMethod(Draft draft, Random random)
    {
        var method = FuzzTarget.Pick(random, Methods.Where(m => m != draft.Method).ToList());
        draft.Method = method;
        draft.Note($"method {method}");
    }

    private static void MutateWire(Draft draft, Random random)
    {
        var values = Enum.GetValues<WireMutation>();
        draft.Wire = values[random.Next(values.Length)];
        if (draft.Wire is WireMutation.BodyShorterThanContentLength or WireMutation.BrokenChunkedBody or WireMutation.ContentLengthAndChunked
            && draft.BodyBytes() is null)
        {
            draft.RawBody = "{}"u8.ToArray();
        }

        draft.Note($"wire: {draft.Wire}");
    }

    // ----- JSON tree helpers -----
    private readonly record struct Slot(JsonNode Parent, string? Key, int Index, JsonNode? Value, string Path);

    private static IEnumerable<Slot> Slots(JsonNode node, string path = "$")
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    var childPath = $"{path}.{key}";
                    yield return new Slot(obj, key, -1, value, childPath);
                    if (value is not null)
                    {
                        foreach (var slot in Slots(value, childPath))
                        {
                            yield return slot;
                        }
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    var childPath = $"{path}[{i}]";
                    yield return new Slot(array, null, i, array[i], childPath);
                    if (array[i] is { } value)
                    {
                        foreach (var slot in Slots(value, childPath))
                        {
                            yield return slot;
                        }
                    }
                }

                break;
        }
    }

    private static IEnumerable<(JsonObject Node, string Path)> Objects(JsonNode root)
    {
        if (root is JsonObject rootObject)
        {
            yield return (rootObject, "$");
        }

        foreach (var slot in Slots(root))
        {
            if (slot.Value is JsonObject obj)
            {
                yield return (obj, slot.Path);
            }
        }
    }

    private static void Replace(Slot slot, JsonNode? value)
    {
        if (slot.Parent is JsonObject obj)
        {
            obj[slot.Key!] = value;
        }
        else
        {
            ((JsonArray)slot.Parent)[slot.Index] = value;
        }
    }

    private static void Remove(Slot slot)
    {
        if (slot.Parent is JsonObject obj)
        {
            obj.Remove(slot.Key!);
        }
        else
        {
            ((JsonArray)slot.Parent).RemoveAt(slot.Index);
        }
    }

    private static string Json(JsonNode? node) => node?.ToJsonString(Relaxed) ?? "null";

    private static string Describe(JsonNode? node) => node is null ? "null" : FuzzRequest.Shorten(node.ToJsonString(), 40);

    private static string Escape(string value) => Uri.EscapeDataString(value);

    /// <summary>A byte string: the UTF-8 bytes of <paramref name="text"/>, one char per byte.</summary>
    private static string Latin1(string text) => Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(text));

    /// <summary>A request being built: the valid form first, then mutations.</summary>
    private sealed class Draft
    {
        private const string SpliceMarker = "@@fuzz-splice-";
        private readonly Dictionary<string, byte[]> _splices = [];

        public required string Endpoint { get; init; }

        public required string Method { get; set; }

        public required string Path { get; set; }

        public List<KeyValuePair<string, string?>> Query { get; } = [];

        public string? RawQuery { get; set; }

        public List<KeyValuePair<string, string>> Headers { get; } = [];

        public JsonNode? Json { get; set; }

        public byte[]? RawBody { get; set; }

        public bool Chunked { get; set; }

        public WireMutation? Wire { get; set; }

        public List<string> Mutations { get; } = [];

        public static Draft For(FuzzTarget target, FuzzWorld world, Random random)
        {
            var (path, id) = target.Path(world, random);
            var draft = new Draft { Endpoint = target.Name, Method = target.Method, Path = path };
            draft.Headers.Add(new("Authorization", "Bearer " + target.Key(world)));

            // Reading alerts that name persons needs a purpose; any request may carry one.
            draft.Headers.Add(new("X-Purpose", "Investigation 2026/114 into the Kurdish-route network"));
            draft.Headers.AddRange(target.Headers?.Invoke(world, id) ?? []);
            if (target.Body is not null)
            {
                draft.Json = target.Body(world, random);
                draft.Headers.Add(new("Content-Type", "application/json"));
            }

            if (target.Name == "POST api/v1/alerts" && random.Next(3) == 0)
            {
                draft.Headers.Add(new("Idempotency-Key", "fuzz-key-" + random.Next(4)));
            }

            return draft;
        }

        public void Note(string mutation) => Mutations.Add(mutation);

        public string? Header(string name) =>
            Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

        public void SetHeader(string name, string value)
        {
            RemoveHeader(name);
            Headers.Add(new(name, value));
        }

        public void RemoveHeader(string name) => Headers.RemoveAll(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));

        /// <summary>A placeholder value whose serialised form is later replaced by raw bytes (duplicate keys, non-JSON tokens, bad UTF-8).</summary>
        public JsonValue Splice(byte[] raw)
        {
            var marker = SpliceMarker + _splices.Count.ToString(CultureInfo.InvariantCulture) + "@@";
            _splices["\"" + marker + "\""] = raw;
            return JsonValue.Create(marker);
        }

        public byte[]? BodyBytes()
        {
            if (RawBody is not null)
            {
                return RawBody;
            }

            if (Json is null)
            {
                return null;
            }

            var bytes = Encoding.UTF8.GetBytes(Json.ToJsonString(Relaxed));
            // Newest first: a later splice may carry an earlier one's marker inside its bytes.
            foreach (var (marker, raw) in _splices.Reverse())
            {
                bytes = ReplaceBytes(bytes, Encoding.UTF8.GetBytes(marker), raw);
            }

            return bytes;
        }

        public FuzzRequest Build()
        {
            var query = RawQuery ?? (Query.Count == 0 ? string.Empty : "?" + string.Join('&', Query.Select(p => p.Value is null ? p.Key : $"{p.Key}={p.Value}")));
            return new FuzzRequest
            {
                Endpoint = Endpoint,
                Method = Method,
                Target = Path + query,
                Headers = Headers.ToList(),
                Body = BodyBytes(),
                Chunked = Chunked,
                Wire = Wire,
                Mutations = Mutations.Count == 0 ? ["none (valid request)"] : Mutations.ToList(),
            };
        }

        private static byte[] ReplaceBytes(byte[] source, byte[] marker, byte[] replacement)
        {
            var at = source.AsSpan().IndexOf(marker);
            if (at < 0)
            {
                // A later mutation removed or replaced the spliced value.
                return source;
            }

            return [.. source.AsSpan(0, at), .. replacement, .. source.AsSpan(at + marker.Length)];
        }
    }
}
