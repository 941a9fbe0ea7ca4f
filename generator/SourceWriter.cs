using System.Text;

namespace FaceNetGen.Generator;

/// <summary>A small indenting writer: the only place that knows about indentation and line endings ("\n").</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public void Line(string text = "")
    {
        if (text.Length == 0)
        {
            _sb.Append('\n');
            return;
        }
        _sb.Append(' ', _indent * 4).Append(text).Append('\n');
    }

    /// <summary>Writes each line of a multi-line block at the current indentation.</summary>
    public void Lines(string block)
    {
        foreach (var line in block.Replace("\r\n", "\n").Split('\n')) Line(line);
    }

    public void Open(string text)
    {
        Line(text);
        Line("{");
        _indent++;
    }

    public void Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
    }

    public override string ToString() => _sb.ToString();
}
