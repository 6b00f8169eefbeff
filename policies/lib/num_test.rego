# Tests of lib.num (package main so `conftest verify` runs them).
package main

import data.lib.num

test_lib_num_int_accepts_atoi_forms if {
	num.int("26") == 26
	num.int("026") == 26
	num.int("+26") == 26
	num.int("-26") == -26
	num.int("0") == 0
	num.int("000") == 0
	num.int("-0") == 0
	num.int("+000") == 0
	num.int(1440) == 1440
}

test_lib_num_int_rejects if {
	every x in ["", "abc", "1.5", "1e3", " 26", "26 ", "+-1", "0x1F", "1234567890", true, null, 1.5] {
		not num.int(x)
	}
}

test_lib_num_text if {
	num.text(8981) == "8981"
	num.text(-1) == "-1"
}
