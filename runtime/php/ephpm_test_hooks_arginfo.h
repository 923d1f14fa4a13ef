/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: 14a76d4366d74734448a58d3d542393ede0ca553 */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_set_after, 0, 3, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, key, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, value, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, delay_ms, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_cancel_waits_after, 0, 1, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, delay_ms, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_reset_wait_cancel, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_watch_slot_count, 0, 0, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_set_watch_slot_grace_ms, 0, 1, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, grace_ms, IS_LONG, 0)
ZEND_END_ARG_INFO()

#define arginfo_ephpm_test_expire_cycle arginfo_ephpm_test_watch_slot_count

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_ephpm_test_cxx_exception, 0, 1, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, kind, IS_STRING, 0)
ZEND_END_ARG_INFO()


ZEND_FUNCTION(ephpm_test_set_after);
ZEND_FUNCTION(ephpm_test_cancel_waits_after);
ZEND_FUNCTION(ephpm_test_reset_wait_cancel);
ZEND_FUNCTION(ephpm_test_watch_slot_count);
ZEND_FUNCTION(ephpm_test_set_watch_slot_grace_ms);
ZEND_FUNCTION(ephpm_test_expire_cycle);
ZEND_FUNCTION(ephpm_test_cxx_exception);


static const zend_function_entry ext_functions[] = {
	ZEND_FE(ephpm_test_set_after, arginfo_ephpm_test_set_after)
	ZEND_FE(ephpm_test_cancel_waits_after, arginfo_ephpm_test_cancel_waits_after)
	ZEND_FE(ephpm_test_reset_wait_cancel, arginfo_ephpm_test_reset_wait_cancel)
	ZEND_FE(ephpm_test_watch_slot_count, arginfo_ephpm_test_watch_slot_count)
	ZEND_FE(ephpm_test_set_watch_slot_grace_ms, arginfo_ephpm_test_set_watch_slot_grace_ms)
	ZEND_FE(ephpm_test_expire_cycle, arginfo_ephpm_test_expire_cycle)
	ZEND_FE(ephpm_test_cxx_exception, arginfo_ephpm_test_cxx_exception)
	ZEND_FE_END
};
