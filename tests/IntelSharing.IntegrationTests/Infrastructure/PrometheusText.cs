using System.Globalization;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>
/// A scrape of <c>/metrics</c> read as Prometheus text exposition: each sample by its series (name and labels exactly
/// as written), and each metric family's <c># TYPE</c>.
/// </summary>
public sealed class PrometheusText
{
    private readonly Dictionary<string, double> _samples = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);

    public PrometheusText(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                _types[parts[2]] = parts[3];
            }
            else if (!line.StartsWith('#'))
            {
                var space = line.LastIndexOf(' ');
                _samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>The type a <c># TYPE</c> line gives the family; null when there is none.</summary>
    public string? TypeOf(string family) => _types.GetValueOrDefault(family);

    /// <summary>The value of one series, e.g. <c>intelsharing_deliveries_pending{subscription="…"}</c>; null when absent.</summary>
    public double? Value(string series) => _samples.TryGetValue(series, out var value) ? value : null;

    public IEnumerable<string> Series => _samples.Keys;
}
