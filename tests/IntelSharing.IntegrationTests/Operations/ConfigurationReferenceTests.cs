using System.Reflection;

namespace IntelSharing.IntegrationTests.Operations;

/// <summary>docs/configuration.md is the one settings reference: it must name every setting an options class binds.</summary>
public sealed class ConfigurationReferenceTests
{
    /// <summary>Every <c>Section__Name</c> the application binds: each options class with a <c>Section</c> constant, and its settable properties.</summary>
    public static TheoryData<string> Settings()
    {
        var settings = new TheoryData<string>();
        foreach (var type in typeof(Program).Assembly.GetTypes())
        {
            if (type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is not { IsLiteral: true } section
                || !type.Name.EndsWith("Options", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
            {
                settings.Add($"{section.GetRawConstantValue()}__{property.Name}");
            }
        }

        return settings;
    }

    [Fact]
    public void Every_options_class_is_found() => Assert.True(Settings().Count >= 30, $"only {Settings().Count} settings found");

    [Theory]
    [MemberData(nameof(Settings))]
    public void The_configuration_reference_lists_the_setting(string setting)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory!.FullName, "IntelSharing.sln")))
        {
            directory = directory.Parent;
        }

        var reference = File.ReadAllText(Path.Combine(directory.FullName, "docs", "configuration.md"));
        Assert.Contains($"| `{setting}", reference, StringComparison.Ordinal);
    }
}
