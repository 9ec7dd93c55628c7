using System.Text.Encodings.Web;
using System.Text.Json;

namespace IntelSharing.Bench;

/// <summary>
/// Realistic alerts of both categories, 1–2 KB of JSON each, varied so that no two consecutive requests are
/// identical: smuggling alerts along the Western Balkans route and cyber incidents against Serbian institutions.
/// Every one is TLP green or amber without a named audience, so it goes to every partner whose subscription matches.
/// </summary>
public static class AlertBodies
{
    private static readonly string[][] Routes =
    [
        ["Gevgelija|MK", "Preševo|RS", "Belgrade|RS", "Subotica|RS"],
        ["Tabanovce|MK", "Vranje|RS", "Niš|RS", "Belgrade|RS", "Šid|RS"],
        ["Kumanovo|MK", "Preševo|RS", "Kragujevac|RS", "Sombor|RS"],
        ["Sofia|BG", "Dimitrovgrad|RS", "Niš|RS", "Kikinda|RS"],
    ];

    private static readonly (string Name, string[] Countries)[] Crossings =
    [
        ("Horgoš–Röszke", ["RS", "HU"]),
        ("Kelebija–Tompa", ["RS", "HU"]),
        ("Šid–Tovarnik", ["RS", "HR"]),
        ("Majdan–Kübekháza", ["RS", "HU"]),
    ];

    private static readonly string[] Methods =
    [
        "Concealment in a refrigerated truck with forged CMR documents, changing drivers at a rest area near Belgrade",
        "Groups of 10 to 15 people walked across the green border at night, guided by a local smuggler paid per head",
        "Transport in rented vans with Bulgarian plates, people hidden behind pallets of building material",
        "Hidden compartment under the floor of a tourist coach on a scheduled line, tickets bought with cash",
    ];

    private static readonly string[] Networks = ["Kurdish route", "Hamza group", "Balkan express", "Night riders", "Tabanovce cell"];
    private static readonly string[] Severities = ["low", "medium", "high", "critical"];
    private static readonly string[] Incidents = ["phishing", "ransomware", "ddos", "intrusion", "data_breach"];
    private static readonly string[] Sectors = ["government", "law_enforcement", "energy", "banking", "health"];
    private static readonly string[] Techniques = ["T1566", "T1566.002", "T1486", "T1190", "T1078", "T1498"];
    private static readonly string[] Cves = ["CVE-2024-21413", "CVE-2024-3400", "CVE-2023-4966", "CVE-2024-1709"];

    /// <summary>Whether body <paramref name="index"/> is a smuggling alert (even) or a cyber incident (odd).</summary>
    public static bool IsSmuggling(int index) => index % 2 == 0;

    public static byte[][] Many(int count) => Enumerable.Range(0, count).Select(Build).ToArray();

    public static byte[] Build(int index)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            if (IsSmuggling(index))
            {
                Smuggling(json, index);
            }
            else
            {
                Cyber(json, index);
            }
        }

        return buffer.ToArray();
    }

    private static void Smuggling(Utf8JsonWriter json, int i)
    {
        var route = Routes[i % Routes.Length];
        var crossing = Crossings[i / 2 % Crossings.Length];
        var people = 12 + i % 47;
        json.WriteStartObject();
        json.WriteString("category", "migrant_smuggling");
        json.WriteString("title", $"About {people} people to be moved from {Place(route[0])} to the {crossing.Name} crossing (report {i})");
        json.WriteString("summary",
            $"A network calling itself '{Networks[i % Networks.Length]}' is gathering about {people} people near {Place(route[1])} for transport towards " +
            $"{Place(route[^1])}. Informants report payment of 2,500 to 4,000 EUR per person, collected through hawala agents in Belgrade. " +
            "The group is expected to move within 48 hours; the vehicles change plates at the last rest stop before the border.");
        json.WriteString("severity", Severities[i % Severities.Length]);
        json.WriteString("tlp", i % 4 == 0 ? "amber" : "green");
        json.WriteStartObject("handling");
        json.WriteString("code", i % 3 == 0 ? "H1" : "H0");
        json.WriteEndObject();
        json.WriteStartObject("evaluation");
        json.WriteString("source", "B");
        json.WriteString("information", "2");
        json.WriteEndObject();
        json.WriteString("basis", "assessment");
        WriteStrings(json, "countries", route.Select(Country).Concat(crossing.Countries).Distinct());
        json.WriteStartObject("smuggling");
        json.WriteStartArray("route");
        foreach (var stop in route)
        {
            json.WriteStartObject();
            json.WriteString("place", Place(stop));
            json.WriteString("country", Country(stop));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("crossingPoints");
        json.WriteStartObject();
        json.WriteString("name", crossing.Name);
        WriteStrings(json, "countries", crossing.Countries);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteString("modusOperandi", Methods[i % Methods.Length]);
        json.WriteNumber("estimatedPeople", people);
        WriteStrings(json, "networkNames", [Networks[i % Networks.Length]]);
        json.WriteEndObject();
        json.WriteStartArray("indicators");
        Indicator(json, "phone", $"+381 64 {100 + i % 900} {1000 + i % 9000}", "Driver's phone");
        Indicator(json, "vehicle_plate", $"SU {100 + i % 900}-AB", "Lead vehicle");
        Indicator(json, "iban", "RS35260005601001611379", "Account receiving the payments");
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Cyber(Utf8JsonWriter json, int i)
    {
        var incident = Incidents[i / 2 % Incidents.Length];
        json.WriteStartObject();
        json.WriteString("category", "cyber_incident");
        json.WriteString("title", $"{char.ToUpperInvariant(incident[0])}{incident[1..].Replace('_', ' ')} campaign against the {Sectors[i % Sectors.Length]} sector (report {i})");
        json.WriteString("summary",
            "E-mails that appear to come from the eUprava help desk link to a credential-harvesting page hosted on a look-alike domain. " +
            "Harvested accounts were used within hours to log in to webmail from a VPS range, and the same infrastructure served a loader " +
            "that exploits an unpatched edge device. National CERT asks partners to block the indicators and report hits.");
        json.WriteString("severity", Severities[(i + 1) % Severities.Length]);
        json.WriteString("tlp", i % 4 == 1 ? "amber" : "green");
        json.WriteStartObject("handling");
        json.WriteString("code", "H0");
        json.WriteEndObject();
        json.WriteStartObject("evaluation");
        json.WriteString("source", "A");
        json.WriteString("information", "1");
        json.WriteEndObject();
        json.WriteString("basis", "fact");
        WriteStrings(json, "countries", i % 3 == 0 ? ["RS", "ME"] : ["RS"]);
        json.WriteStartObject("cyber");
        json.WriteString("incidentType", incident);
        json.WriteString("sector", Sectors[i % Sectors.Length]);
        WriteStrings(json, "attackTechniques", [Techniques[i % Techniques.Length], Techniques[(i + 1) % Techniques.Length]]);
        WriteStrings(json, "cves", [Cves[i % Cves.Length]]);
        json.WriteEndObject();
        json.WriteStartArray("indicators");
        Indicator(json, "domain", $"eUprava-Prijava{i % 97}.example.com", "Credential-harvesting page");
        Indicator(json, "ipv4", $"185.220.101.{i % 250 + 1}", "VPS used for the logins");
        Indicator(json, "url", $"https://euprava-prijava{i % 97}.example.com/login?session={i}", "Link in the e-mails");
        Indicator(json, "sha256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))), "Loader");
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Place(string stop) => stop[..stop.IndexOf('|', StringComparison.Ordinal)];

    private static string Country(string stop) => stop[(stop.IndexOf('|', StringComparison.Ordinal) + 1)..];

    private static void Indicator(Utf8JsonWriter json, string type, string value, string description)
    {
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteString("value", value);
        json.WriteString("description", description);
        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}
