using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Server.Http;

/// <summary>
/// Serializes JSON the way Python's <c>json.dumps</c> does by default (", " and ": " separators,
/// non-ASCII escaped). MLflow stores some tag values in this form and clients compare them as text.
/// </summary>
public static class PythonJson
{
    public static string Serialize(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in obj)
                {
                    if (!first)
                    {
                        sb.Append(", ");
                    }

                    first = false;
                    WriteString(sb, key);
                    sb.Append(": ");
                    Write(sb, value);
                }

                sb.Append('}');
                break;
            case JsonArray array:
                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(", ");
                    }

                    Write(sb, array[i]);
                }

                sb.Append(']');
                break;
            case JsonValue value when value.TryGetValue<string>(out var s):
                WriteString(sb, s);
                break;
            case JsonValue value when value.TryGetValue<bool>(out var b):
                sb.Append(b ? "true" : "false");
                break;
            case JsonValue value when value.TryGetValue<long>(out var l):
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case JsonValue value when value.TryGetValue<double>(out var d):
                sb.Append(d == Math.Floor(d) && Math.Abs(d) < 1e16 ? d.ToString("0.0", CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture));
                break;
            default:
                sb.Append(node.ToJsonString());
                break;
        }
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}
