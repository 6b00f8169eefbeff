# Integer parsing that behaves the same on every engine.
#
# to_number() raises on "026" or "+26" in OPA (a JSON number parse) and
# regopy wraps integers >= 2^64 to 0, so callers go through int() instead:
# it accepts what Go's strconv.Atoi accepts for the values we read (optional
# sign, leading zeros) and refuses anything with more than 9 significant
# digits, which no MTU, block size or replica count needs.
package lib.num

# int(x) is the integer value of x: a decimal string or an integral number.
# Undefined when x is not an integer. Exclusive alternatives are else
# branches, which OPA stops trying at the first that holds (lib.calico).
int(x) := _parse(x) if {
	is_string(x)
} else := _parse(json.marshal(x)) if {
	is_number(x)
}

_parse(s) := _signed(s) if regex.match(`^[+-]?[0-9]+$`, s)

_signed(s) := 0 - _magnitude(substring(s, 1, -1)) if startswith(s, "-")

_signed(s) := _magnitude(substring(s, 1, -1)) if startswith(s, "+")

_signed(s) := _magnitude(s) if {
	not startswith(s, "-")
	not startswith(s, "+")
}

_magnitude(digits) := 0 if {
	trim_left(digits, "0") == ""
} else := to_number(d) if {
	d := trim_left(digits, "0")
	count(d) <= 9
}

# text(n) renders an integer for a message (sprintf's %d is undefined in
# regopy for the float that integer division yields).
text(n) := format_int(n, 10)
