package dev.edgeav.core

/**
 * A small JSON reader (RFC 8259) on the Kotlin stdlib: objects become [Map], arrays [List], numbers [Double],
 * so the core needs no library on Android or on the host.
 */
object Json {
    fun parse(text: String): Any? {
        val reader = Reader(text)
        val value = reader.value()
        reader.skipSpace()
        if (!reader.atEnd()) throw reader.error("trailing characters")
        return value
    }

    private class Reader(
        private val s: String,
    ) {
        private var i = 0

        fun atEnd(): Boolean = i >= s.length

        fun error(what: String): IllegalArgumentException = IllegalArgumentException("invalid JSON at character $i: $what")

        fun skipSpace() {
            while (i < s.length && s[i].isWhitespace()) i++
        }

        fun value(): Any? {
            skipSpace()
            if (atEnd()) throw error("unexpected end")
            return when (val c = s[i]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (c == '-' || c.isDigit()) number() else throw error("unexpected '$c'")
            }
        }

        private fun literal(
            word: String,
            result: Any?,
        ): Any? {
            if (!s.startsWith(word, i)) throw error("expected $word")
            i += word.length
            return result
        }

        private fun obj(): Map<String, Any?> {
            val out = LinkedHashMap<String, Any?>()
            i++
            skipSpace()
            if (s.getOrNull(i) == '}') return out.also { i++ }
            while (true) {
                skipSpace()
                if (s.getOrNull(i) != '"') throw error("expected a key")
                val key = string()
                skipSpace()
                if (s.getOrNull(i) != ':') throw error("expected ':'")
                i++
                out[key] = value()
                skipSpace()
                when (s.getOrNull(i)) {
                    ',' -> i++
                    '}' -> return out.also { i++ }
                    else -> throw error("expected ',' or '}'")
                }
            }
        }

        private fun array(): List<Any?> {
            val out = ArrayList<Any?>()
            i++
            skipSpace()
            if (s.getOrNull(i) == ']') return out.also { i++ }
            while (true) {
                out.add(value())
                skipSpace()
                when (s.getOrNull(i)) {
                    ',' -> i++
                    ']' -> return out.also { i++ }
                    else -> throw error("expected ',' or ']'")
                }
            }
        }

        private fun string(): String {
            val out = StringBuilder()
            i++
            while (true) {
                if (atEnd()) throw error("unterminated string")
                val c = s[i++]
                when (c) {
                    '"' -> return out.toString()
                    '\\' -> out.append(escape())
                    else -> out.append(c)
                }
            }
        }

        private fun escape(): Char {
            if (atEnd()) throw error("unterminated escape")
            return when (val e = s[i++]) {
                '"', '\\', '/' -> {
                    e
                }

                'b' -> {
                    '\b'
                }

                'f' -> {
                    '\u000C'
                }

                'n' -> {
                    '\n'
                }

                'r' -> {
                    '\r'
                }

                't' -> {
                    '\t'
                }

                'u' -> {
                    if (i + 4 > s.length) throw error("short \\u escape")
                    s
                        .substring(i, i + 4)
                        .toInt(16)
                        .toChar()
                        .also { i += 4 }
                }

                else -> {
                    throw error("bad escape '\\$e'")
                }
            }
        }

        private fun number(): Double {
            val start = i
            if (s[i] == '-') i++
            while (i < s.length && (s[i].isDigit() || s[i] in ".eE+-")) i++
            return s.substring(start, i).toDoubleOrNull() ?: throw error("bad number '${s.substring(start, i)}'")
        }
    }
}
