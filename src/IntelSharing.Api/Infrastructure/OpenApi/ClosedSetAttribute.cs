using System.Reflection;

namespace IntelSharing.Api.Infrastructure.OpenApi;

/// <summary>
/// A string property (or list of strings) whose values come from a closed set kept as constants in code, e.g.
/// delivery states or event types: the document lists them as an <c>enum</c> (<see cref="ContractSchemaFilter"/>), so
/// generated clients get a union type and the list cannot drift from the code. <paramref name="member"/> names a static
/// list on <paramref name="holder"/> when only part of the constants apply; otherwise every public string constant counts.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter, Inherited = false)]
public sealed class ClosedSetAttribute(Type holder, string? member = null) : Attribute
{
    public IReadOnlyList<string> Values()
    {
        if (member is not null)
        {
            var value = holder.GetField(member, BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
                ?? holder.GetProperty(member, BindingFlags.Public | BindingFlags.Static)?.GetValue(null);
            return value as IReadOnlyList<string> ?? throw new InvalidOperationException($"{holder.Name}.{member} is not a static list of strings.");
        }

        return [.. holder.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)];
    }
}
