using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using FluentValidation;

namespace IntelSharing.Api.Infrastructure.Validation;

/// <summary>
/// Makes FluentValidation's default messages name fields as clients spell them: "'title' must not be empty."
/// rather than the .NET property ("'Title'"). Set when the assembly loads, so the API and the validator unit
/// tests see the same messages.
/// </summary>
internal static class ValidationNames
{
    [ModuleInitializer]
    internal static void UseJsonNames() =>
        ValidatorOptions.Global.DisplayNameResolver = static (_, member, _) => For(member);

    /// <summary>The name a message uses for <paramref name="member"/>: its JSON name.</summary>
    internal static string? For(MemberInfo? member) => member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
}
